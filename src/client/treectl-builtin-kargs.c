/* SPDX-License-Identifier: LGPL-2.1-or-later
 * treectl kargs: print or change the default deployment's kernel arguments. */
#include "config.h"

#include "treectl-builtins.h"
#include "treectl-client.h"

static char **opt_append;
static char **opt_delete;
static char **opt_replace;
static gboolean opt_reboot;

static GOptionEntry entries[] = {
  { "append", 0, 0, G_OPTION_ARG_STRING_ARRAY, &opt_append, "Append a kernel argument",
    "KEY=VALUE" },
  { "delete", 0, 0, G_OPTION_ARG_STRING_ARRAY, &opt_delete,
    "Delete a kernel argument (KEY alone when it has one value)", "KEY=VALUE" },
  { "replace", 0, 0, G_OPTION_ARG_STRING_ARRAY, &opt_replace,
    "Replace KEY's value OLD by NEW (KEY=VALUE when it has one value)", "KEY=OLD=NEW" },
  { "reboot", 'r', 0, G_OPTION_ARG_NONE, &opt_reboot, "Reboot after the change", NULL },
  { NULL },
};

static const char *empty_strv[] = { NULL };

int
treectl_builtin_kargs (int argc, char **argv, GCancellable *cancellable, GError **error)
{
  g_autoptr(GOptionContext) context = g_option_context_new ("- show or change kernel arguments");
  g_option_context_set_description (
      context, "Without options, prints the kernel arguments of the booted (or default)\n"
               "deployment. With changes, deploys the same commit again with the new arguments,\n"
               "so the previous arguments remain available through 'treectl rollback'.\n"
               "Exit status: 0 changed, 77 the arguments were already so.");
  if (!treectl_option_context_parse (context, entries, &argc, &argv, TREECTL_OPT_OS, error))
    return 1;
  if (argc > 1)
    return (g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                         "kargs takes options only (got \"%s\")", argv[1]),
            1);
  g_autoptr(TreectlOS) os = NULL;
  g_autoptr(TreectlClient) client = treectl_client_connect_os (&os, cancellable, error);
  if (!client)
    return 1;
  if (!opt_append && !opt_delete && !opt_replace)
    {
      g_autoptr(GVariant) deployments
          = treectl_client_get_property (client, "Deployments", cancellable, error);
      if (!deployments)
        return 1;
      const char *osname = treectl_os_get_name (os);
      /* The first deployment of the stateroot is the one upgrades start from. */
      for (gsize i = 0; i < g_variant_n_children (deployments); i++)
        {
          g_autoptr(GVariant) d = g_variant_get_child_value (deployments, i);
          const char *d_os = NULL, *kargs = NULL;
          gboolean booted = FALSE;
          g_variant_lookup (d, "osname", "&s", &d_os);
          g_variant_lookup (d, "kargs", "&s", &kargs);
          g_variant_lookup (d, "booted", "b", &booted);
          if (g_strcmp0 (d_os, osname) == 0)
            {
              g_print ("%s\n", kargs ? kargs : "");
              return 0;
            }
        }
      return (g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "no deployment of %s", osname),
              1);
    }
  g_auto(GVariantBuilder) b = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&b, "{sv}", "reboot", g_variant_new_boolean (opt_reboot));
  g_autofree char *address = NULL;
  if (!treectl_os_call_kernel_args_sync (
          os, opt_append ? (const char *const *)opt_append : empty_strv,
          opt_delete ? (const char *const *)opt_delete : empty_strv,
          opt_replace ? (const char *const *)opt_replace : empty_strv, g_variant_builder_end (&b),
          &address, cancellable, error))
    return 1;
  return treectl_client_run_and_finish (client, address, TRUE, cancellable, error);
}
