/* A sink plugin whose load leaves a trace: its constructor creates the file named
 * by $AF_TEST_PLUGIN_MARKER. `validate` must never load a plugin (loading runs
 * code like this); `replay` must. Built together with the example jsonl sink,
 * whose entry table it provides. */
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

__attribute__((constructor)) static void leave_marker(void) {
  const char* path = getenv("AF_TEST_PLUGIN_MARKER");
  if (path) {
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) close(fd);
  }
}
