/* SPDX-License-Identifier: LGPL-2.1-or-later
 * treectl compose: build server commands, run in-process (no daemon). */
#include "config.h"

#include <stdio.h>

#include "treectl-builtins.h"

typedef struct
{
  const char *name;
  TreectlBuiltin fn;
  const char *summary;
} ComposeCommand;

static const ComposeCommand subcommands[] = {
  { "tree", treectl_compose_tree, "Compose a commit from a treefile and rpm-md repositories" },
  { "import", treectl_compose_import, "Import RPM files into a repository as package commits" },
  { NULL },
};

static void
print_usage (FILE *out)
{
  fprintf (out, "Usage: treectl compose SUBCOMMAND [OPTION...]\n\nSubcommands:\n");
  for (const ComposeCommand *c = subcommands; c->name; c++)
    fprintf (out, "  %-8s %s\n", c->name, c->summary);
  fprintf (out, "\nRun 'treectl compose SUBCOMMAND --help' for its options.\n");
}

int
treectl_builtin_compose (int argc, char **argv, GCancellable *cancellable, GError **error)
{
  if (argc < 2)
    {
      print_usage (stderr);
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                           "compose needs a subcommand");
      return 1;
    }
  if (g_str_equal (argv[1], "--help") || g_str_equal (argv[1], "-h"))
    {
      print_usage (stdout);
      return 0;
    }
  for (const ComposeCommand *c = subcommands; c->name; c++)
    if (g_str_equal (c->name, argv[1]))
      {
        g_autofree char *prgname = g_strdup_printf ("treectl compose %s", c->name);
        g_set_prgname (prgname);
        return c->fn (argc - 1, argv + 1, cancellable, error);
      }
  print_usage (stderr);
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "unknown compose subcommand \"%s\"",
               argv[1]);
  return 1;
}
