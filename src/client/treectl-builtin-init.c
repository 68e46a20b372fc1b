/* SPDX-License-Identifier: LGPL-2.1-or-later
 * treectl init: make an empty directory a sysroot and deploy the first commit into it. */
#include "config.h"

#include "treectl-builtins.h"
#include "treectl-client.h"

static char *opt_os;
static char *opt_url;
static char *opt_gpg_key;
static gboolean opt_no_gpg_verify;
static char **opt_kargs;

static GOptionEntry entries[] = {
  { "os", 0, 0, G_OPTION_ARG_STRING, &opt_os, "Name of the stateroot to create (required)",
    "NAME" },
  { "url", 0, 0, G_OPTION_ARG_STRING, &opt_url, "URL of the remote's repository (required)",
    "URL" },
  { "gpg-key", 0, 0, G_OPTION_ARG_FILENAME, &opt_gpg_key,
    "Trust the GPG public key(s) in FILE for the remote and require signatures", "FILE" },
  { "no-gpg-verify", 0, 0, G_OPTION_ARG_NONE, &opt_no_gpg_verify,
    "Do not verify commit signatures from the remote", NULL },
  { "karg", 0, 0, G_OPTION_ARG_STRING_ARRAY, &opt_kargs,
    "Kernel argument for the first deployment (repeatable)", "KEY=VALUE" },
  { NULL },
};

int
treectl_builtin_init (int argc, char **argv, GCancellable *cancellable, GError **error)
{
  g_autoptr(GOptionContext) context = g_option_context_new ("REMOTE:REF - create a sysroot");
  g_option_context_set_description (
      context, "Run as 'treectl --sysroot DIR init --os NAME --url URL (--gpg-key FILE |\n"
               "--no-gpg-verify) REMOTE:REF'. DIR must be empty. Creates the ostree layout,\n"
               "the stateroot and the remote, pulls REF and deploys it with the given kernel\n"
               "arguments, writing BLS entries under DIR/boot/loader/entries.");
  if (!treectl_option_context_parse (context, entries, &argc, &argv, TREECTL_OPT_NONE, error))
    return 1;
  if (!treectl_opt_sysroot)
    return (g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                                 "init needs --sysroot DIR (the directory to turn into a sysroot)"),
            1);
  if (argc != 2)
    return (g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                                 "init needs exactly one REMOTE:REF"),
            1);
  if (!opt_os)
    return (g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                                 "init needs --os NAME"),
            1);
  if (!opt_url)
    return (g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                                 "init needs --url URL"),
            1);
  if (!!opt_gpg_key == !!opt_no_gpg_verify)
    return (g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                                 "init needs exactly one of --gpg-key FILE and --no-gpg-verify"),
            1);
  g_auto(GVariantBuilder) b = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&b, "{sv}", "url", g_variant_new_string (opt_url));
  g_variant_builder_add (&b, "{sv}", "no-gpg-verify", g_variant_new_boolean (opt_no_gpg_verify));
  if (opt_gpg_key)
    {
      g_autofree char *data = NULL;
      gsize len = 0;
      if (!g_file_get_contents (opt_gpg_key, &data, &len, error))
        {
          g_prefix_error (error, "--gpg-key: ");
          return 1;
        }
      g_variant_builder_add (&b, "{sv}", "gpg-key-data",
                             g_variant_new_fixed_array (G_VARIANT_TYPE_BYTE, data, len, 1));
    }
  if (opt_kargs)
    g_variant_builder_add (&b, "{sv}", "kargs",
                           g_variant_new_strv ((const char *const *)opt_kargs, -1));
  g_autoptr(TreectlClient) client = treectl_client_connect (treectl_opt_sysroot, cancellable, error);
  if (!client)
    return 1;
  g_autofree char *address = NULL;
  if (!treectl_sysroot_call_init_sync (client->sysroot, opt_os, argv[1], g_variant_builder_end (&b),
                                       &address, cancellable, error))
    return 1;
  return treectl_client_run_and_finish (client, address, FALSE, cancellable, error);
}
