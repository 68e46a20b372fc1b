/* SPDX-License-Identifier: LGPL-2.1-or-later
 * treectl compose tree: treefile + rpm-md repositories -> ostree commit. */
#include "config.h"

#include <sys/utsname.h>

#include "tc-treefile.h"
#include "treectl-builtins.h"

static gboolean opt_print_only;
static char *opt_basearch;

static GOptionEntry entries[] = {
  { "print-only", 0, 0, G_OPTION_ARG_NONE, &opt_print_only,
    "Print the flattened treefile (includes, variables and conditions resolved) as JSON", NULL },
  { "basearch", 0, 0, G_OPTION_ARG_STRING, &opt_basearch,
    "Architecture to resolve per-arch keys for (default: this machine's)", "ARCH" },
  { NULL },
};

int
treectl_compose_tree (int argc, char **argv, GCancellable *cancellable, GError **error)
{
  g_autoptr(GOptionContext) context = g_option_context_new ("TREEFILE - compose a commit");
  if (!treectl_option_context_parse (context, entries, &argc, &argv, TREECTL_OPT_NONE, error))
    return 1;
  if (argc != 2)
    return (g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                                 "compose tree needs exactly one TREEFILE"),
            1);
  struct utsname u;
  const char *basearch = opt_basearch;
  if (!basearch)
    basearch = uname (&u) == 0 ? u.machine : "x86_64";
  g_autoptr(TcTreefile) treefile = tc_treefile_load (argv[1], basearch, error);
  if (!treefile)
    return 1;
  if (opt_print_only)
    {
      g_autofree char *json = tc_treefile_to_json (treefile, TRUE);
      g_print ("%s\n", json);
      return 0;
    }
  if (!tc_treefile_check_implemented (treefile, error))
    return 1;
  g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                       "compose tree: only --print-only works in this build");
  return 1;
}
