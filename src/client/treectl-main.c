/* SPDX-License-Identifier: LGPL-2.1-or-later
 * treectl: command table, shared options, error printing. */
#include "config.h"

#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tc-util.h"
#include "treectl-builtins.h"
#include "treectl-client.h"

char *treectl_opt_sysroot = NULL;
char *treectl_opt_osname = NULL;

typedef struct
{
  const char *name;
  TreectlBuiltin fn;
  const char *summary;
} TreectlCommand;

static const TreectlCommand commands[] = {
  { "status", treectl_builtin_status, "Show the deployments of the sysroot" },
  { "upgrade", treectl_builtin_upgrade, "Pull and deploy the newest commit of the origin's ref" },
  { "deploy", treectl_builtin_deploy, "Deploy a version or commit from the origin's history" },
  { "rebase", treectl_builtin_rebase, "Switch to another remote and ref" },
  { "rollback", treectl_builtin_rollback, "Make the previous deployment the default again" },
  { "install", treectl_builtin_install, "Layer packages on the base commit and deploy" },
  { "uninstall", treectl_builtin_uninstall, "Remove layered packages and deploy" },
  { "override", treectl_builtin_override, "Remove or replace base packages: override remove/replace/reset" },
  { "cleanup", treectl_builtin_cleanup, "Remove pending or rollback deployments, prune the repo" },
  { "kargs", treectl_builtin_kargs, "Show or change kernel arguments" },
  { "cancel", treectl_builtin_cancel, "Cancel the running transaction" },
  { "init", treectl_builtin_init, "Turn an empty directory into a sysroot and deploy into it" },
  { "compose", treectl_builtin_compose, "Build server commands: compose tree, compose import" },
  { "db", treectl_builtin_db, "Package lists of commits (run in-process): db list, db diff" },
  { NULL },
};

static void
print_usage (FILE *out)
{
  fprintf (out, "Usage: treectl [--sysroot DIR] COMMAND [OPTION...]\n\n"
                "Manage an operating system kept as content-addressed trees.\n\n"
                "Commands (host commands run through treectld; compose and db in-process):\n");
  for (const TreectlCommand *c = commands; c->name; c++)
    fprintf (out, "  %-10s %s\n", c->name, c->summary);
  fprintf (out, "\nGlobal options:\n"
                "  --sysroot DIR   Operate on the sysroot at DIR (host commands: a private treectld)\n"
                "  --version       Print the version and built-in features\n"
                "  -h, --help      Show this help\n\n"
                "Run 'treectl COMMAND --help' for a command's options.\n");
}

static GOptionEntry shared_entries[] = {
  { "sysroot", 0, 0, G_OPTION_ARG_FILENAME, &treectl_opt_sysroot,
    "Operate on the sysroot at DIR (host commands start a private treectld for it)", "DIR" },
  { NULL },
};

static GOptionEntry os_entries[] = {
  { "os", 0, 0, G_OPTION_ARG_STRING, &treectl_opt_osname,
    "Act on stateroot NAME (default: the booted or default one)", "NAME" },
  { NULL },
};

gboolean
treectl_option_context_parse (GOptionContext *context, const GOptionEntry *entries, int *argc,
                              char ***argv, TreectlOptFlags flags, GError **error)
{
  if (entries)
    g_option_context_add_main_entries (context, entries, NULL);
  g_option_context_add_main_entries (context, shared_entries, NULL);
  if (flags & TREECTL_OPT_OS)
    g_option_context_add_main_entries (context, os_entries, NULL);
  if (!g_option_context_parse (context, argc, argv, error))
    return FALSE;
  return TRUE;
}

static void
print_version (void)
{
  g_print ("treectl %s\n"
           "Features:\n"
           " - host: status upgrade deploy rebase rollback cleanup kargs cancel init\n"
           " - daemon: system bus (org.treectl.Treectl1), peer mode (--sysroot), polkit\n"
           " - compose: treefile (YAML, JSON), rpm-md (gz, xz, zstd) via libsolv, librpm import,\n"
           "   bubblewrap scriptlets, rpmdb, static deltas\n"
           " - db: list, diff\n"
           " - signatures: gpg (gpgme via libostree)\n",
           PACKAGE_VERSION);
}

int
main (int argc, char **argv)
{
  setlocale (LC_ALL, "");
  g_set_prgname ("treectl");

  /* Global options before the verb. */
  int i = 1;
  for (; i < argc; i++)
    {
      const char *a = argv[i];
      if (g_str_equal (a, "--version"))
        {
          print_version ();
          return EXIT_SUCCESS;
        }
      else if (g_str_equal (a, "-h") || g_str_equal (a, "--help"))
        {
          print_usage (stdout);
          return EXIT_SUCCESS;
        }
      else if (g_str_equal (a, "--sysroot"))
        {
          if (i + 1 >= argc)
            {
              g_printerr ("error: --sysroot needs a directory (--sysroot DIR)\n");
              return EXIT_FAILURE;
            }
          treectl_opt_sysroot = g_strdup (argv[++i]);
        }
      else if (g_str_has_prefix (a, "--sysroot="))
        treectl_opt_sysroot = g_strdup (a + strlen ("--sysroot="));
      else if (a[0] == '-')
        {
          g_printerr ("error: unknown global option %s\n", a);
          print_usage (stderr);
          return EXIT_FAILURE;
        }
      else
        break;
    }
  if (i >= argc)
    {
      g_printerr ("error: no command given\n");
      print_usage (stderr);
      return EXIT_FAILURE;
    }
  const char *verb = argv[i];
  const TreectlCommand *command = NULL;
  for (const TreectlCommand *c = commands; c->name; c++)
    if (g_str_equal (c->name, verb))
      command = c;
  if (!command)
    {
      g_printerr ("error: unknown command \"%s\"\n", verb);
      print_usage (stderr);
      return EXIT_FAILURE;
    }

  /* The verb sees argv starting at its own name. */
  int verb_argc = argc - i;
  char **verb_argv = argv + i;
  g_autofree char *prgname = g_strdup_printf ("treectl %s", verb);
  g_set_prgname (prgname);
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GError) error = NULL;
  int rc = command->fn (verb_argc, verb_argv, cancellable, &error);
  if (error)
    {
      treectl_client_strip_error (error);
      g_printerr ("error: %s\n", error->message);
      return rc != 0 ? rc : EXIT_FAILURE;
    }
  return rc;
}
