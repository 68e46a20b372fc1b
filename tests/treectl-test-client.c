/* SPDX-License-Identifier: LGPL-2.1-or-later
 * A deliberately misbehaving or late D-Bus client for daemon tests, doing what the CLI never
 * does: create a transaction and not start it, or join a transaction by its address.
 *
 *   treectl-test-client create-only SECONDS   call OS.Upgrade, print the address, stay
 *                                             connected SECONDS without calling Start
 *   treectl-test-client start ADDRESS         connect, call Start, print
 *                                             "started=B success=B error=MSG" at Finished
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include "treectl-dbus.h"

static GMainLoop *loop;

static void
on_finished (TreectlTransaction *txn, gboolean success, const char *error_message,
             GVariant *result, gpointer user_data)
{
  gboolean *started = user_data;
  g_print ("started=%s success=%s error=%s\n", *started ? "true" : "false",
           success ? "true" : "false", error_message);
  g_main_loop_quit (loop);
}

static void
on_closed (GDBusConnection *c, gboolean vanished, GError *error, gpointer user_data)
{
  g_print ("connection closed\n");
  g_main_loop_quit (loop);
}

int
main (int argc, char **argv)
{
  g_autoptr(GError) error = NULL;
  if (argc != 3)
    {
      g_printerr ("usage: %s create-only SECONDS | start ADDRESS\n", argv[0]);
      return 2;
    }
  loop = g_main_loop_new (NULL, FALSE);
  if (g_str_equal (argv[1], "create-only"))
    {
      g_autoptr(GDBusConnection) bus = g_bus_get_sync (G_BUS_TYPE_SYSTEM, NULL, &error);
      if (!bus)
        return (g_printerr ("%s\n", error->message), 1);
      g_autoptr(TreectlSysroot) sysroot = treectl_sysroot_proxy_new_sync (
          bus, 0, "org.treectl.Treectl1", "/org/treectl/Treectl1/Sysroot", NULL, &error);
      g_autofree char *os_path = NULL;
      if (!sysroot || !treectl_sysroot_call_get_os_sync (sysroot, "", &os_path, NULL, &error))
        return (g_printerr ("%s\n", error->message), 1);
      g_autoptr(TreectlOS) os
          = treectl_os_proxy_new_sync (bus, 0, "org.treectl.Treectl1", os_path, NULL, &error);
      g_autofree char *address = NULL;
      if (!os
          || !treectl_os_call_upgrade_sync (os, g_variant_new ("a{sv}", NULL), &address, NULL,
                                            &error))
        return (g_printerr ("%s\n", error->message), 1);
      g_print ("%s\n", address);
      fflush (stdout);
      g_usleep (strtoul (argv[2], NULL, 10) * G_USEC_PER_SEC);
      return 0;
    }
  if (g_str_equal (argv[1], "start"))
    {
      g_autoptr(GDBusConnection) c = g_dbus_connection_new_for_address_sync (
          argv[2], G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT, NULL, NULL, &error);
      if (!c)
        return (g_printerr ("%s\n", error->message), 1);
      g_autoptr(TreectlTransaction) txn = treectl_transaction_proxy_new_sync (
          c, G_DBUS_PROXY_FLAGS_DO_NOT_LOAD_PROPERTIES, NULL, "/org/treectl/Treectl1/Transaction",
          NULL, &error);
      if (!txn)
        return (g_printerr ("%s\n", error->message), 1);
      gboolean started = FALSE;
      g_signal_connect (txn, "finished", G_CALLBACK (on_finished), &started);
      g_signal_connect (c, "closed", G_CALLBACK (on_closed), NULL);
      if (!treectl_transaction_call_start_sync (txn, &started, NULL, &error))
        return (g_printerr ("%s\n", error->message), 1);
      g_main_loop_run (loop);
      return 0;
    }
  g_printerr ("unknown mode %s\n", argv[1]);
  return 2;
}
