/* SPDX-License-Identifier: LGPL-2.1-or-later
 * treectl compose import: RPM files -> package commits in an ostree repository. */
#include "config.h"

#include "tc-importer.h"
#include "treectl-builtins.h"

int
treectl_compose_import (int argc, char **argv, GCancellable *cancellable, GError **error)
{
  g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_FAILED, "compose import: unavailable");
  return 1;
}
