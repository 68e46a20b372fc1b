/* SPDX-License-Identifier: LGPL-2.1-or-later
 * treectl cancel: cancel the transaction treectld is running. */
#include "config.h"

#include "treectl-builtins.h"
#include "treectl-client.h"

int
treectl_builtin_cancel (int argc, char **argv, GCancellable *cancellable, GError **error)
{
  g_autoptr(GOptionContext) context = g_option_context_new ("- cancel the running transaction");
  if (!treectl_option_context_parse (context, NULL, &argc, &argv, TREECTL_OPT_NONE, error))
    return 1;
  if (argc > 1)
    return (g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                         "cancel takes no arguments (got \"%s\")", argv[1]),
            1);
  g_autoptr(TreectlClient) client = treectl_client_connect (treectl_opt_sysroot, cancellable, error);
  if (!client)
    return 1;
  g_autoptr(GVariant) active
      = treectl_client_get_property (client, "ActiveTransaction", cancellable, error);
  if (!active)
    return 1;
  const char *title, *sender, *address;
  g_variant_get (active, "(&s&s&s)", &title, &sender, &address);
  if (*address == '\0')
    {
      g_print ("No transaction in progress.\n");
      return 0;
    }
  g_autoptr(GDBusConnection) connection = g_dbus_connection_new_for_address_sync (
      address, G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT, NULL, cancellable, error);
  if (!connection)
    {
      g_prefix_error (error, "connecting to transaction \"%s\": ", title);
      return 1;
    }
  g_autoptr(TreectlTransaction) txn = treectl_transaction_proxy_new_sync (
      connection, G_DBUS_PROXY_FLAGS_DO_NOT_LOAD_PROPERTIES, NULL,
      "/org/treectl/Treectl1/Transaction", cancellable, error);
  if (!txn || !treectl_transaction_call_cancel_sync (txn, cancellable, error))
    return 1;
  g_print ("Cancelled transaction \"%s\".\n", title);
  return 0;
}
