/* SPDX-License-Identifier: LGPL-2.1-or-later
 * treectl rebase: follow another remote and ref. */
#include "config.h"

#include "treectl-builtins.h"
#include "treectl-client.h"

static gboolean opt_reboot;

static GOptionEntry entries[] = {
  { "reboot", 'r', 0, G_OPTION_ARG_NONE, &opt_reboot, "Reboot after rebasing", NULL },
  { NULL },
};

int
treectl_builtin_rebase (int argc, char **argv, GCancellable *cancellable, GError **error)
{
  g_autoptr(GOptionContext) context
      = g_option_context_new ("REMOTE:REF|REF - switch to another ref");
  g_option_context_set_description (
      context, "Pulls REF from REMOTE (or from the current remote when no REMOTE: is given),\n"
               "deploys it as the new default and records it in the origin, so later upgrades\n"
               "follow it. Exit status: 0 rebased, 77 already on that ref and commit.");
  if (!treectl_option_context_parse (context, entries, &argc, &argv, TREECTL_OPT_OS, error))
    return 1;
  if (argc != 2)
    return (g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                                 "rebase needs exactly one REMOTE:REF"),
            1);
  g_autoptr(TreectlOS) os = NULL;
  g_autoptr(TreectlClient) client = treectl_client_connect_os (&os, cancellable, error);
  if (!client)
    return 1;
  g_auto(GVariantBuilder) b = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&b, "{sv}", "reboot", g_variant_new_boolean (opt_reboot));
  g_autofree char *address = NULL;
  if (!treectl_os_call_rebase_sync (os, argv[1], g_variant_builder_end (&b), &address, cancellable,
                                    error))
    return 1;
  return treectl_client_run_and_finish (client, address, TRUE, cancellable, error);
}
