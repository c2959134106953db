/* galley-plan.h: `galley plan`, the scheduler scripts for the shard protocol.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

/* `galley plan slurm FILE --shards N ...`: @argv[0] is "galley plan". */
int galley_plan_command (int argc, char **argv);
