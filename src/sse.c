/* placeholder */ typedef int sseq_placeholder_sse;
