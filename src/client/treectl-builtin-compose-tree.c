/* SPDX-License-Identifier: LGPL-2.1-or-later
 * treectl compose tree: treefile + rpm-md repositories -> ostree commit. */
#include "config.h"

#include <sys/utsname.h>
#include <unistd.h>

#include "tc-compose.h"
#include "tc-treefile.h"
#include "tc-upgrader.h"
#include "tc-util.h"
#include "treectl-builtins.h"
#include "treectl-client.h"

static gboolean opt_print_only;
static char *opt_basearch;
static char *opt_repo;
static char *opt_cachedir;
static gboolean opt_dry_run;
static gboolean opt_force_nocache;
static char *opt_gpg_sign;
static char *opt_gpg_homedir;
static gboolean opt_static_delta;
static char *opt_write_commitid_to;
static char *opt_write_composejson_to;
static char **opt_add_metadata_strings;
static char **opt_lua_skip;

static GOptionEntry entries[] = {
  { "repo", 'r', 0, G_OPTION_ARG_FILENAME, &opt_repo,
    "Output ostree repository (must exist; usually mode archive)", "REPO" },
  { "cachedir", 0, 0, G_OPTION_ARG_FILENAME, &opt_cachedir,
    "Keep downloaded packages, metadata and package imports in DIR (default: none kept)", "DIR" },
  { "print-only", 0, 0, G_OPTION_ARG_NONE, &opt_print_only,
    "Print the flattened treefile (includes, variables and conditions resolved) as JSON", NULL },
  { "basearch", 0, 0, G_OPTION_ARG_STRING, &opt_basearch,
    "Architecture to compose for (default: this machine's)", "ARCH" },
  { "dry-run", 0, 0, G_OPTION_ARG_NONE, &opt_dry_run,
    "Resolve dependencies and print the package list; write nothing", NULL },
  { "force-nocache", 0, 0, G_OPTION_ARG_NONE, &opt_force_nocache,
    "Compose even when nothing changed since the previous commit", NULL },
  { "gpg-sign", 0, 0, G_OPTION_ARG_STRING, &opt_gpg_sign,
    "Sign the commit and the summary with this GPG key (overrides gpg-key)", "KEYID" },
  { "gpg-homedir", 0, 0, G_OPTION_ARG_FILENAME, &opt_gpg_homedir, "GnuPG home directory",
    "DIR" },
  { "static-delta", 0, 0, G_OPTION_ARG_NONE, &opt_static_delta,
    "Generate a static delta from the previous commit", NULL },
  { "write-commitid-to", 0, 0, G_OPTION_ARG_FILENAME, &opt_write_commitid_to,
    "Write the new commit's checksum to FILE", "FILE" },
  { "write-composejson-to", 0, 0, G_OPTION_ARG_FILENAME, &opt_write_composejson_to,
    "Write a JSON summary of the compose to FILE", "FILE" },
  { "add-metadata-string", 0, 0, G_OPTION_ARG_STRING_ARRAY, &opt_add_metadata_strings,
    "Add KEY=VALUE to the commit metadata (version=V sets the version)", "KEY=VALUE" },
  { "skip-lua-scriptlets-of", 0, 0, G_OPTION_ARG_STRING_ARRAY, &opt_lua_skip,
    "Skip the Lua scriptlets of package NAME instead of failing (repeatable)", "NAME" },
  { NULL },
};

int
treectl_compose_tree (int argc, char **argv, GCancellable *cancellable, GError **error)
{
  g_autoptr(GOptionContext) context = g_option_context_new ("TREEFILE - compose a commit");
  g_option_context_set_description (
      context, "Resolves the treefile's packages from the rpm-md repositories named by the\n"
               ".repo files next to it, imports each package once into the cache, assembles\n"
               "and postprocesses the tree, writes its rpmdb and commits it to REF in REPO.\n"
               "Exit status: 0 committed, 77 nothing changed since the previous commit.");
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
  if (opt_print_only)
    {
      g_autoptr(TcTreefile) treefile = tc_treefile_load (argv[1], basearch, error);
      if (!treefile)
        return 1;
      g_autofree char *json = tc_treefile_to_json (treefile, TRUE);
      g_print ("%s\n", json);
      return 0;
    }
  if (!opt_dry_run && geteuid () != 0)
    return (g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED,
                                 "compose tree must run as root: scriptlets run in bubblewrap "
                                 "and files get their owners (--print-only and --dry-run do not "
                                 "need it)"),
            1);
  if (!opt_repo)
    {
      /* Treefile mistakes first: they are what a user editing one wants to hear about. */
      g_autoptr(TcTreefile) treefile = tc_treefile_load (argv[1], basearch, error);
      if (!treefile || !tc_treefile_check_implemented (treefile, error))
        return 1;
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                           "compose tree needs --repo REPO");
      return 1;
    }
  TcComposeOptions opts = {
    .treefile = argv[1],
    .repo = opt_repo,
    .cachedir = opt_cachedir,
    .basearch = basearch,
    .dry_run = opt_dry_run,
    .force_nocache = opt_force_nocache,
    .gpg_sign = opt_gpg_sign,
    .gpg_homedir = opt_gpg_homedir,
    .static_delta = opt_static_delta,
    .write_commitid_to = opt_write_commitid_to,
    .write_composejson_to = opt_write_composejson_to,
    .add_metadata_strings = opt_add_metadata_strings,
    .lua_skip_ok = opt_lua_skip,
  };
  g_autoptr(GVariant) result = NULL;
  if (!tc_compose_tree (&opts, &result, cancellable, error))
    return 1;
  return treectl_client_finish (result, !opt_dry_run);
}
