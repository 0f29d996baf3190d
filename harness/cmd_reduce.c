/* cmd_reduce.c - `abifuzz reduce`: shrinks a failing case while the same finding fires (being
 * written: issue "Triage"). */
#include "cli.h"

int cmd_reduce(int argc, char **argv) {
  (void)argc;
  (void)argv;
  cli_error("reduce: not implemented yet");
  return CLI_ERROR;
}
