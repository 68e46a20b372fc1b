/* SPDX-License-Identifier: LGPL-2.1-or-later
 * treectl rollback: the previous deployment becomes the default. */
#include "config.h"

#include "treectl-builtins.h"
#include "treectl-client.h"

static gboolean opt_reboot;

static GOptionEntry entries[] = {
  { "reboot", 'r', 0, G_OPTION_ARG_NONE, &opt_reboot, "Reboot after the rollback", NULL },
  { NULL },
};

int
treectl_builtin_rollback (int argc, char **argv, GCancellable *cancellable, GError **error)
{
  g_autoptr(GOptionContext) context = g_option_context_new ("- make the rollback the default");
  g_option_context_set_description (
      context, "Moves the rollback deployment (the one after the booted or default one) to the\n"
               "front of the boot order. Running it twice swaps back.");
  if (!treectl_option_context_parse (context, entries, &argc, &argv, TREECTL_OPT_OS, error))
    return 1;
  if (argc > 1)
    return (g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                         "rollback takes no arguments (got \"%s\")", argv[1]),
            1);
  g_autoptr(TreectlOS) os = NULL;
  g_autoptr(TreectlClient) client = treectl_client_connect_os (&os, cancellable, error);
  if (!client)
    return 1;
  g_auto(GVariantBuilder) b = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&b, "{sv}", "reboot", g_variant_new_boolean (opt_reboot));
  g_autofree char *address = NULL;
  if (!treectl_os_call_rollback_sync (os, g_variant_builder_end (&b), &address, cancellable, error))
    return 1;
  return treectl_client_run_and_finish (client, address, FALSE, cancellable, error);
}
