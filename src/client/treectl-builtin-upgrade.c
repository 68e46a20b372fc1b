/* SPDX-License-Identifier: LGPL-2.1-or-later
 * treectl upgrade: pull the origin's ref and deploy it. */
#include "config.h"

#include "treectl-builtins.h"
#include "treectl-client.h"
#include "treectl-pkgdiff.h"

static gboolean opt_check;
static gboolean opt_allow_downgrade;
static gboolean opt_reboot;
static gboolean opt_preview;

static GOptionEntry entries[] = {
  { "check", 0, 0, G_OPTION_ARG_NONE, &opt_check,
    "Only check whether an update exists (exit 77 when there is none)", NULL },
  { "allow-downgrade", 0, 0, G_OPTION_ARG_NONE, &opt_allow_downgrade,
    "Deploy the ref's commit even if it is older than the deployed one", NULL },
  { "preview", 0, 0, G_OPTION_ARG_NONE, &opt_preview,
    "Like --check, and list how the packages of the update differ from the deployed base",
    NULL },
  { "reboot", 'r', 0, G_OPTION_ARG_NONE, &opt_reboot, "Reboot after a successful upgrade", NULL },
  { NULL },
};

int
treectl_builtin_upgrade (int argc, char **argv, GCancellable *cancellable, GError **error)
{
  g_autoptr(GOptionContext) context = g_option_context_new ("- upgrade to the newest commit");
  g_option_context_set_description (
      context, "Pulls the ref named in the default deployment's origin, verifies its GPG\n"
               "signature when the remote requires it, and deploys it as the new default with\n"
               "the current deployment as merge source (/etc and kernel arguments carry over).\n"
               "With layered packages, they are resolved again on the new base.\n"
               "Exit status: 0 updated (or, with --check/--preview, an update exists), 77\n"
               "nothing to do.");
  if (!treectl_option_context_parse (context, entries, &argc, &argv, TREECTL_OPT_OS, error))
    return 1;
  if (argc > 1)
    return (g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                         "upgrade takes no arguments (got \"%s\")", argv[1]),
            1);
  if ((opt_check || opt_preview) && opt_reboot)
    return (g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                                 "--check and --preview cannot be combined with --reboot"),
            1);
  g_autoptr(TreectlOS) os = NULL;
  g_autoptr(TreectlClient) client = treectl_client_connect_os (&os, cancellable, error);
  if (!client)
    return 1;
  g_auto(GVariantBuilder) b = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&b, "{sv}", "check", g_variant_new_boolean (opt_check || opt_preview));
  g_variant_builder_add (&b, "{sv}", "allow-downgrade", g_variant_new_boolean (opt_allow_downgrade));
  g_variant_builder_add (&b, "{sv}", "reboot", g_variant_new_boolean (opt_reboot));
  g_autofree char *address = NULL;
  /* The deployment the upgrade starts from, before the transaction adds anything. */
  g_autofree char *current_base = opt_preview
                                      ? treectl_client_get_current_base (client, os, cancellable,
                                                                         error)
                                      : NULL;
  if (opt_preview && !current_base)
    return 1;
  if (!treectl_os_call_upgrade_sync (os, g_variant_builder_end (&b), &address, cancellable, error))
    return 1;
  if (!opt_preview)
    return treectl_client_run_and_finish (client, address, TRUE, cancellable, error);
  g_autoptr(GVariant) result
      = treectl_client_run_transaction (client, address, cancellable, error);
  if (!result)
    return 1;
  int rc = treectl_client_finish (result, TRUE);
  const char *checksum = NULL;
  if (rc != 0 || !g_variant_lookup (result, "checksum", "&s", &checksum))
    return rc;
  g_autoptr(OstreeRepo) repo
      = treectl_open_sysroot_repo (treectl_sysroot_get_path (client->sysroot), cancellable, error);
  g_autoptr(TcPkgDiff) diff
      = repo ? treectl_pkgdiff_for_commits (repo, current_base, checksum, cancellable, error)
             : NULL;
  if (!diff)
    return 1;
  g_autofree char *summary = treectl_pkgdiff_summary (diff);
  g_print ("Package changes against the deployed base %.12s: %s\n", current_base, summary);
  treectl_print_pkgdiff (diff, "  ");
  return rc;
}
