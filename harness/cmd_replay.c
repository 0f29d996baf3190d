/* cmd_replay.c - `abifuzz replay`: re-runs one finding or case in the foreground (being written:
 * issue "Triage"). */
#include "cli.h"

int cmd_replay(int argc, char **argv) {
  (void)argc;
  (void)argv;
  cli_error("replay: not implemented yet");
  return CLI_ERROR;
}
