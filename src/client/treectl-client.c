/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Connecting to treectld and following transactions. */
#include "config.h"

#include <glib-unix.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tc-output.h"
#include "tc-util.h"
#include "treectl-builtins.h"
#include "treectl-client.h"

#define BUS_NAME "org.treectl.Treectl1"
#define SYSROOT_PATH "/org/treectl/Treectl1/Sysroot"
#define TRANSACTION_PATH "/org/treectl/Treectl1/Transaction"

void
treectl_client_strip_error (GError *error)
{
  if (error && g_dbus_error_is_remote_error (error))
    g_dbus_error_strip_remote_error (error);
}

void
treectl_client_free (TreectlClient *client)
{
  if (!client)
    return;
  g_clear_object (&client->sysroot);
  if (client->connection)
    g_dbus_connection_close_sync (client->connection, NULL, NULL);
  g_clear_object (&client->connection);
  if (client->daemon)
    {
      /* The private daemon exits once its connection is gone (after finishing any
       * transaction). */
      g_subprocess_wait (client->daemon, NULL, NULL);
      g_clear_object (&client->daemon);
    }
  g_free (client);
}

static const char *
daemon_path (void)
{
  const char *path = g_getenv ("TREECTL_DAEMON");
  return path && *path ? path : LIBEXECDIR "/treectld";
}

static gboolean
spawn_peer_daemon (TreectlClient *client, const char *sysroot_path, GCancellable *cancellable,
                   GError **error)
{
  int pair[2];
  if (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) < 0)
    return tc_throw_errno_prefix (error, "socketpair");
  g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_NONE);
  g_subprocess_launcher_take_fd (launcher, pair[1], 3);
  const char *config = g_getenv ("TREECTLD_CONFIG");
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_ptr_array_add (argv, (char *)daemon_path ());
  g_ptr_array_add (argv, "--peer-fd=3");
  g_autofree char *sysroot_arg = g_strconcat ("--sysroot=", sysroot_path, NULL);
  g_ptr_array_add (argv, sysroot_arg);
  g_autofree char *config_arg = config ? g_strconcat ("--config=", config, NULL) : NULL;
  if (config_arg)
    g_ptr_array_add (argv, config_arg);
  g_ptr_array_add (argv, NULL);
  client->daemon
      = g_subprocess_launcher_spawnv (launcher, (const char *const *)argv->pdata, error);
  if (!client->daemon)
    {
      close (pair[0]);
      g_prefix_error (error, "starting %s: ", daemon_path ());
      return FALSE;
    }
  g_autoptr(GSocket) socket = g_socket_new_from_fd (pair[0], error);
  if (!socket)
    return FALSE;
  g_autoptr(GSocketConnection) stream = g_socket_connection_factory_create_connection (socket);
  client->connection = g_dbus_connection_new_sync (
      G_IO_STREAM (stream), NULL, G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT, NULL,
      cancellable, error);
  if (!client->connection)
    {
      g_prefix_error (error, "connecting to the private treectld: ");
      return FALSE;
    }
  return TRUE;
}

TreectlClient *
treectl_client_connect (const char *sysroot_path, GCancellable *cancellable, GError **error)
{
  g_autoptr(TreectlClient) client = g_new0 (TreectlClient, 1);
  if (sysroot_path)
    {
      if (!g_file_test (sysroot_path, G_FILE_TEST_IS_DIR))
        return (tc_throw (error, "--sysroot %s: not a directory", sysroot_path), NULL);
      g_autofree char *abs = g_canonicalize_filename (sysroot_path, NULL);
      if (!spawn_peer_daemon (client, abs, cancellable, error))
        return NULL;
    }
  else
    {
      client->connection = g_bus_get_sync (G_BUS_TYPE_SYSTEM, cancellable, error);
      if (!client->connection)
        {
          g_prefix_error (error, "connecting to the system bus: ");
          return NULL;
        }
      client->bus_name = BUS_NAME;
    }
  client->sysroot = treectl_sysroot_proxy_new_sync (
      client->connection, G_DBUS_PROXY_FLAGS_NONE, client->bus_name, SYSROOT_PATH, cancellable,
      error);
  if (!client->sysroot)
    {
      treectl_client_strip_error (*error);
      g_prefix_error (error, "reaching treectld: ");
      return NULL;
    }
  /* A proxy made for a name with no owner and no activation still succeeds: check. */
  if (client->bus_name
      && g_dbus_proxy_get_name_owner (G_DBUS_PROXY (client->sysroot)) == NULL)
    return (tc_throw (error, "treectld is not running and could not be activated on the system "
                             "bus (is treectl installed? use --sysroot DIR for a directory)"),
            NULL);
  return g_steal_pointer (&client);
}

TreectlOS *
treectl_client_get_os (TreectlClient *client, const char *osname, GCancellable *cancellable,
                       GError **error)
{
  g_autofree char *path = NULL;
  if (!treectl_sysroot_call_get_os_sync (client->sysroot, osname ? osname : "", &path, cancellable,
                                         error))
    {
      treectl_client_strip_error (*error);
      return NULL;
    }
  TreectlOS *os = treectl_os_proxy_new_sync (client->connection, G_DBUS_PROXY_FLAGS_NONE,
                                             client->bus_name, path, cancellable, error);
  if (!os)
    treectl_client_strip_error (*error);
  return os;
}

GVariant *
treectl_client_get_property (TreectlClient *client, const char *name, GCancellable *cancellable,
                             GError **error)
{
  if (!treectl_sysroot_call_reload_sync (client->sysroot, cancellable, error))
    {
      treectl_client_strip_error (*error);
      return NULL;
    }
  g_autoptr(GVariant) reply = g_dbus_connection_call_sync (
      client->connection, client->bus_name, SYSROOT_PATH, "org.freedesktop.DBus.Properties",
      "Get", g_variant_new ("(ss)", "org.treectl.Treectl1.Sysroot", name),
      G_VARIANT_TYPE ("(v)"), G_DBUS_CALL_FLAGS_NONE, -1, cancellable, error);
  if (!reply)
    {
      treectl_client_strip_error (*error);
      return NULL;
    }
  GVariant *value = NULL;
  g_variant_get (reply, "(v)", &value);
  return value;
}

/* Transaction following */

typedef struct
{
  GMainLoop *loop;
  TreectlTransaction *txn;
  gboolean finished;
  gboolean success;
  char *error_message;
  GVariant *result;
  gboolean connection_lost;
  gboolean is_tty;
  char *task;           /* current task text, between TaskBegin and TaskEnd */
  gboolean line_open;   /* a progress line without its newline is on the terminal */
  gint64 last_progress; /* monotonic time of the last plain progress line */
  gboolean cancel_requested;
} TxnState;

static void
close_line (TxnState *st)
{
  if (st->line_open)
    {
      g_print ("\n");
      st->line_open = FALSE;
    }
}

static void
on_message (TreectlTransaction *txn, const char *text, gpointer user_data)
{
  TxnState *st = user_data;
  close_line (st);
  g_print ("%s\n", text);
}

static void
on_task_begin (TreectlTransaction *txn, const char *text, gpointer user_data)
{
  TxnState *st = user_data;
  close_line (st);
  g_free (st->task);
  st->task = g_strdup (text);
  if (st->is_tty)
    {
      g_print ("%s... ", text);
      st->line_open = TRUE;
    }
  else
    g_print ("%s...\n", text);
  fflush (stdout);
}

static void
on_task_end (TreectlTransaction *txn, const char *text, gpointer user_data)
{
  TxnState *st = user_data;
  if (st->is_tty)
    g_print ("\r\033[K%s... %s\n", st->task ? st->task : "", text);
  else
    g_print ("%s: %s\n", st->task ? st->task : "", text);
  st->line_open = FALSE;
  g_clear_pointer (&st->task, g_free);
}

static void
on_percent (TreectlTransaction *txn, const char *text, guint percent, gpointer user_data)
{
  TxnState *st = user_data;
  if (st->is_tty)
    {
      g_print ("\r\033[K%s: %u%%", text, percent);
      st->line_open = TRUE;
      fflush (stdout);
    }
  else
    g_print ("%s: %u%%\n", text, percent);
}

static void
on_download (TreectlTransaction *txn, GVariant *progress, gpointer user_data)
{
  TxnState *st = user_data;
  g_autofree char *line = tc_output_format_download (progress);
  gboolean final = g_variant_lookup (progress, "status", "&s", NULL);
  if (st->is_tty)
    {
      g_print ("\r\033[K%s%s%s", st->task ? st->task : "", st->task ? "... " : "", line);
      st->line_open = TRUE;
      fflush (stdout);
      return;
    }
  /* Not a terminal: one line a second at most, and always the final one. */
  gint64 now = g_get_monotonic_time ();
  if (!final && now - st->last_progress < G_USEC_PER_SEC)
    return;
  st->last_progress = now;
  g_print ("  %s\n", line);
}

static void
on_finished (TreectlTransaction *txn, gboolean success, const char *error_message,
             GVariant *result, gpointer user_data)
{
  TxnState *st = user_data;
  close_line (st);
  st->finished = TRUE;
  st->success = success;
  st->error_message = g_strdup (error_message);
  st->result = g_variant_ref (result);
  g_main_loop_quit (st->loop);
}

static void
on_connection_closed (GDBusConnection *connection, gboolean remote_vanished, GError *error,
                      gpointer user_data)
{
  TxnState *st = user_data;
  if (!st->finished)
    {
      st->connection_lost = TRUE;
      g_main_loop_quit (st->loop);
    }
}

static gboolean
on_sigint (gpointer user_data)
{
  TxnState *st = user_data;
  close_line (st);
  if (st->cancel_requested)
    {
      g_printerr ("Still waiting for the transaction to cancel\n");
      return G_SOURCE_CONTINUE;
    }
  st->cancel_requested = TRUE;
  g_printerr ("Caught interrupt, cancelling the transaction\n");
  treectl_transaction_call_cancel (st->txn, NULL, NULL, NULL);
  return G_SOURCE_CONTINUE;
}

GVariant *
treectl_client_run_transaction (TreectlClient *client, const char *address,
                                GCancellable *cancellable, GError **error)
{
  g_autoptr(GDBusConnection) connection = g_dbus_connection_new_for_address_sync (
      address, G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT, NULL, cancellable, error);
  if (!connection)
    {
      g_prefix_error (error, "connecting to the transaction: ");
      return NULL;
    }
  g_autoptr(TreectlTransaction) txn = treectl_transaction_proxy_new_sync (
      connection, G_DBUS_PROXY_FLAGS_DO_NOT_LOAD_PROPERTIES, NULL, TRANSACTION_PATH, cancellable,
      error);
  if (!txn)
    return NULL;
  g_autoptr(GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  TxnState st = { .loop = loop, .txn = txn, .is_tty = isatty (STDOUT_FILENO) };
  g_signal_connect (txn, "message", G_CALLBACK (on_message), &st);
  g_signal_connect (txn, "task-begin", G_CALLBACK (on_task_begin), &st);
  g_signal_connect (txn, "task-end", G_CALLBACK (on_task_end), &st);
  g_signal_connect (txn, "percent-progress", G_CALLBACK (on_percent), &st);
  g_signal_connect (txn, "download-progress", G_CALLBACK (on_download), &st);
  g_signal_connect (txn, "finished", G_CALLBACK (on_finished), &st);
  gulong closed_id = g_signal_connect (connection, "closed", G_CALLBACK (on_connection_closed), &st);
  guint sigint_id = g_unix_signal_add (SIGINT, on_sigint, &st);

  gboolean started = FALSE;
  if (!treectl_transaction_call_start_sync (txn, &started, cancellable, error))
    {
      g_source_remove (sigint_id);
      g_signal_handler_disconnect (connection, closed_id);
      treectl_client_strip_error (*error);
      g_prefix_error (error, "starting the transaction: ");
      return NULL;
    }
  if (!st.finished)
    g_main_loop_run (loop);
  g_source_remove (sigint_id);
  g_signal_handler_disconnect (connection, closed_id);
  g_free (st.task);

  if (st.connection_lost)
    {
      g_free (st.error_message);
      return (tc_throw (error, "lost the connection to treectld before the transaction finished"),
              NULL);
    }
  if (!st.success)
    {
      g_set_error_literal (error, G_IO_ERROR,
                           g_str_equal (st.error_message, "cancelled") ? G_IO_ERROR_CANCELLED
                                                                        : G_IO_ERROR_FAILED,
                           st.error_message);
      g_free (st.error_message);
      g_clear_pointer (&st.result, g_variant_unref);
      return NULL;
    }
  g_free (st.error_message);
  return st.result;
}

int
treectl_client_finish (GVariant *result, gboolean unchanged_is_77)
{
  const char *message = NULL;
  gboolean changed = TRUE;
  g_variant_lookup (result, "message", "&s", &message);
  g_variant_lookup (result, "changed", "b", &changed);
  if (message && *message)
    g_print ("%s\n", message);
  return (!changed && unchanged_is_77) ? TC_EXIT_UNCHANGED : 0;
}

int
treectl_client_run_and_finish (TreectlClient *client, const char *address,
                               gboolean unchanged_is_77, GCancellable *cancellable,
                               GError **error)
{
  g_autoptr(GVariant) result = treectl_client_run_transaction (client, address, cancellable, error);
  if (!result)
    return 1;
  return treectl_client_finish (result, unchanged_is_77);
}

TreectlClient *
treectl_client_connect_os (TreectlOS **out_os, GCancellable *cancellable, GError **error)
{
  g_autoptr(TreectlClient) client = treectl_client_connect (treectl_opt_sysroot, cancellable, error);
  if (!client)
    return NULL;
  TreectlOS *os = treectl_client_get_os (client, treectl_opt_osname, cancellable, error);
  if (!os)
    return NULL;
  *out_os = os;
  return g_steal_pointer (&client);
}

char *
treectl_client_get_current_base (TreectlClient *client, TreectlOS *os, GCancellable *cancellable,
                                 GError **error)
{
  g_autoptr(GVariant) deployments
      = treectl_client_get_property (client, "Deployments", cancellable, error);
  if (!deployments)
    return NULL;
  const char *osname = treectl_os_get_name (os);
  g_autoptr(GVariant) chosen = NULL;
  for (gsize i = 0; i < g_variant_n_children (deployments); i++)
    {
      g_autoptr(GVariant) d = g_variant_get_child_value (deployments, i);
      const char *name = NULL;
      gboolean booted = FALSE;
      g_variant_lookup (d, "osname", "&s", &name);
      g_variant_lookup (d, "booted", "b", &booted);
      if (g_strcmp0 (name, osname) != 0)
        continue;
      if (booted || !chosen)
        {
          g_clear_pointer (&chosen, g_variant_unref);
          chosen = g_variant_ref (d);
        }
    }
  const char *checksum = NULL;
  if (!chosen || !(g_variant_lookup (chosen, "base-checksum", "&s", &checksum)
                   || g_variant_lookup (chosen, "checksum", "&s", &checksum)))
    return (g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                         "stateroot %s has no deployment", osname),
            NULL);
  return g_strdup (checksum);
}
