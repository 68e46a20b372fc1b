/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "tc-treefile.h"

#include "tc-util.h"

/* Placeholder until the treefile loader lands: every entry point fails cleanly. */
TcTreefile *
tc_treefile_load (const char *path, const char *basearch, GError **error)
{
  tc_throw (error, "%s: treefile support is not built yet", path);
  return NULL;
}

void
tc_treefile_free (TcTreefile *treefile)
{
}

char *
tc_treefile_to_json (TcTreefile *treefile, gboolean pretty)
{
  return NULL;
}

gboolean
tc_treefile_check_implemented (TcTreefile *treefile, GError **error)
{
  return tc_throw (error, "treefile support is not built yet");
}
