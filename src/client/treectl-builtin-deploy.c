/* SPDX-License-Identifier: LGPL-2.1-or-later
 * treectl deploy: deploy a version or commit from the origin ref's history. */
#include "config.h"

#include "treectl-builtins.h"
#include "treectl-client.h"

static gboolean opt_reboot;

static GOptionEntry entries[] = {
  { "reboot", 'r', 0, G_OPTION_ARG_NONE, &opt_reboot, "Reboot after deploying", NULL },
  { NULL },
};

int
treectl_builtin_deploy (int argc, char **argv, GCancellable *cancellable, GError **error)
{
  g_autoptr(GOptionContext) context = g_option_context_new ("VERSION|CHECKSUM - deploy a revision");
  g_option_context_set_description (
      context, "Looks VERSION (commit metadata \"version\") or CHECKSUM (full, or a prefix of\n"
               "at least 8 hex digits) up in the history of the origin's ref, pulls that commit\n"
               "and deploys it as the new default. Older commits are allowed. The origin is\n"
               "pinned to the commit until the next 'treectl upgrade'.\n"
               "Exit status: 0 deployed, 77 the revision is already the default.");
  if (!treectl_option_context_parse (context, entries, &argc, &argv, TREECTL_OPT_OS, error))
    return 1;
  if (argc != 2)
    return (g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                                 "deploy needs exactly one VERSION or CHECKSUM"),
            1);
  g_autoptr(TreectlOS) os = NULL;
  g_autoptr(TreectlClient) client = treectl_client_connect_os (&os, cancellable, error);
  if (!client)
    return 1;
  g_auto(GVariantBuilder) b = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&b, "{sv}", "reboot", g_variant_new_boolean (opt_reboot));
  g_autofree char *address = NULL;
  if (!treectl_os_call_deploy_sync (os, argv[1], g_variant_builder_end (&b), &address, cancellable,
                                    error))
    return 1;
  return treectl_client_run_and_finish (client, address, TRUE, cancellable, error);
}
