/* cmd_report.c - `abifuzz report`: writes the reports of a campaign directory (being written: issue
 * "Triage"). */
#include "cli.h"

int cmd_report(int argc, char **argv) {
  (void)argc;
  (void)argv;
  cli_error("report: not implemented yet");
  return CLI_ERROR;
}
