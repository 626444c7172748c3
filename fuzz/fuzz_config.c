/* fuzz_config.c -- libFuzzer target: the config loader (src/conf/) on
 * a file holding the input, in a private directory (so @include finds
 * nothing of ours; stdin is /dev/null). Properties: no crash or sanitizer
 * report or leak; a refusal says why; a loaded config prints, and what it
 * prints loads again when it has no tokens (they print masked).
 * Not checked yet: that a refusal is one line. src/conf/ quotes a bad value
 * raw, and a libconfig string may hold a newline or control bytes (seed
 * corpus/config/raw_value_in_error, found by this target). */
#include "ac_config.h"

#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "conf/config.h"
#include "fuzz.h"

static char fuzz_dir[64], fuzz_file[96], fuzz_file2[96];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    int fd = open("/dev/null", O_RDONLY);

    (void)argc;
    (void)argv;
    FUZZ_ASSERT(fd >= 0 && dup2(fd, 0) == 0, "stdin from /dev/null");
    close(fd);
    snprintf(fuzz_dir, sizeof(fuzz_dir), "/tmp/sseq-fuzz-config-XXXXXX");
    FUZZ_ASSERT(mkdtemp(fuzz_dir) != NULL, "mkdtemp");
    snprintf(fuzz_file, sizeof(fuzz_file), "%s/sseq.conf", fuzz_dir);
    snprintf(fuzz_file2, sizeof(fuzz_file2), "%s/printed.conf", fuzz_dir);
    return 0;
}

/* Writes n bytes to path (truncating). */
static void fuzz_write(const char *path, const void *p, size_t n)
{
    FILE *f = fopen(path, "w");

    FUZZ_ASSERT(f != NULL && fwrite(p, 1, n, f) == n && fclose(f) == 0,
                "write the config file");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct config cfg, again;
    char err[512], err2[512];
    FILE *f;

    fuzz_write(fuzz_file, data, size);
    if (config_load(&cfg, fuzz_file, true, err, sizeof(err)) < 0) {
        FUZZ_ASSERT(err[0] != '\0', "a refusal says why");
        config_free(&cfg);
        return 0;
    }
    f = fopen(fuzz_file2, "w");
    FUZZ_ASSERT(f != NULL, "open the printed config");
    config_print(&cfg, f);
    fclose(f);
    FUZZ_ASSERT(config_load(&again, fuzz_file2, true, err2,
                            sizeof(err2)) == 0 || cfg.n_tokens > 0, err2);
    config_free(&again);
    config_free(&cfg);
    return 0;
}
