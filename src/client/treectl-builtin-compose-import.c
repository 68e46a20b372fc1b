/* SPDX-License-Identifier: LGPL-2.1-or-later
 * treectl compose import: RPM files -> package commits in an ostree repository. */
#include "config.h"

#include <fcntl.h>

#include "tc-importer.h"
#include "treectl-builtins.h"

static char *opt_repo;
static char *opt_keyring;
static gboolean opt_require_signature;
static gboolean opt_nodocs;
static gboolean opt_skip_unsupported;

static GOptionEntry entries[] = {
  { "repo", 0, 0, G_OPTION_ARG_FILENAME, &opt_repo, "OSTree repository to import into", "REPO" },
  { "keyring", 0, 0, G_OPTION_ARG_FILENAME, &opt_keyring,
    "Directory of public keys (one per file) to verify package signatures with", "DIR" },
  { "require-signature", 0, 0, G_OPTION_ARG_NONE, &opt_require_signature,
    "Refuse packages without a signature that verifies with a key from --keyring", NULL },
  { "nodocs", 0, 0, G_OPTION_ARG_NONE, &opt_nodocs, "Leave documentation files out", NULL },
  { "skip-unsupported", 0, 0, G_OPTION_ARG_NONE, &opt_skip_unsupported,
    "Leave out paths outside the directories a tree holds instead of failing (the filesystem "
    "package)",
    NULL },
  { NULL },
};

/* The commit subject is the package's NAME-EVR.ARCH. */
static char *
commit_subject (OstreeRepo *repo, const char *commit, GError **error)
{
  g_autoptr (GVariant) commit_v = NULL;
  if (!ostree_repo_load_commit (repo, commit, &commit_v, NULL, error))
    return NULL;
  const char *subject = NULL;
  g_variant_get_child (commit_v, 3, "&s", &subject);
  return g_strdup (subject);
}

int
treectl_compose_import (int argc, char **argv, GCancellable *cancellable, GError **error)
{
  g_autoptr (GOptionContext) context
      = g_option_context_new ("RPM... - import RPM files into a repository as package commits");
  if (!treectl_option_context_parse (context, entries, &argc, &argv, TREECTL_OPT_NONE, error))
    return 1;
  if (opt_repo == NULL)
    return (g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                                 "compose import needs --repo"),
            1);
  if (argc < 2)
    return (g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                                 "compose import needs at least one RPM file"),
            1);
  if (opt_require_signature && opt_keyring == NULL)
    return (g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                                 "--require-signature needs --keyring"),
            1);

  g_autoptr (OstreeRepo) repo = ostree_repo_open_at (AT_FDCWD, opt_repo, cancellable, error);
  if (repo == NULL)
    return 1;

  TcImportOptions opts = { .keyring_dir = opt_keyring };
  if (opt_require_signature)
    opts.flags |= TC_IMPORT_FLAGS_REQUIRE_SIGNATURE;
  if (opt_nodocs)
    opts.flags |= TC_IMPORT_FLAGS_NODOCS;
  if (opt_skip_unsupported)
    opts.flags |= TC_IMPORT_FLAGS_SKIP_UNSUPPORTED;

  for (int i = 1; i < argc; i++)
    {
      g_autofree char *commit = NULL;
      g_autofree char *ref = NULL;
      if (!tc_importer_import (repo, argv[i], &opts, FALSE, &commit, &ref, cancellable, error))
        return 1;
      g_autofree char *subject = commit_subject (repo, commit, error);
      if (subject == NULL)
        return 1;
      g_print ("imported %s as %s on %s\n", subject, commit, ref);
    }
  return 0;
}
