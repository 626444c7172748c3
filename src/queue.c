/* placeholder */ typedef int sseq_placeholder_queue;
