/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Transactions: private server, Start/Cancel, worker thread, Finished replay. */
#include "config.h"

#include <unistd.h>

#include <gio/gunixfdlist.h>

#include "tc-output.h"
#include "tc-sysroot.h"
#include "tc-util.h"
#include "treectld-transaction.h"

struct _TreectldTransaction
{
  gint refcount;
  TreectldDaemon *daemon;
  char *title;
  char *method;
  GVariant *params;
  GUnixFDList *fd_list; /* file descriptors passed with the request, or NULL */
  char *sender;
  uid_t uid;
  gboolean needs_sysroot;
  TreectldTxnFunc func;

  GDBusServer *server;
  GDBusAuthObserver *observer;
  GPtrArray *peers; /* GDBusConnection */
  TreectlTransaction *skeleton;
  GCancellable *cancellable;

  gboolean started;
  gboolean finished;
  gboolean closed;
  gboolean success;
  char *error_message;
  GVariant *result;
  guint start_timeout_id;
  guint linger_timeout_id;
  guint sender_watch_id;
};

/* How long a finished transaction waits for late clients before it goes away. */
#define LINGER_SECONDS 30

TreectldTransaction *
treectld_transaction_ref (TreectldTransaction *txn)
{
  g_atomic_int_inc (&txn->refcount);
  return txn;
}

void
treectld_transaction_unref (TreectldTransaction *txn)
{
  if (!g_atomic_int_dec_and_test (&txn->refcount))
    return;
  g_free (txn->title);
  g_free (txn->method);
  g_clear_pointer (&txn->params, g_variant_unref);
  g_clear_object (&txn->fd_list);
  g_free (txn->sender);
  if (txn->server)
    g_dbus_server_stop (txn->server);
  g_clear_object (&txn->server);
  g_clear_object (&txn->observer);
  for (guint i = 0; i < txn->peers->len; i++)
    g_signal_handlers_disconnect_by_data (txn->peers->pdata[i], txn);
  g_clear_pointer (&txn->peers, g_ptr_array_unref);
  g_clear_object (&txn->skeleton);
  g_clear_object (&txn->cancellable);
  g_free (txn->error_message);
  g_clear_pointer (&txn->result, g_variant_unref);
  g_free (txn);
}

const char *
treectld_transaction_get_address (TreectldTransaction *txn)
{
  return g_dbus_server_get_client_address (txn->server);
}

const char *
treectld_transaction_get_title (TreectldTransaction *txn)
{
  return txn->title;
}

const char *
treectld_transaction_get_sender (TreectldTransaction *txn)
{
  return txn->sender ? txn->sender : "";
}

GVariant *
treectld_transaction_get_params (TreectldTransaction *txn)
{
  return txn->params;
}

gboolean
treectld_transaction_is_started (TreectldTransaction *txn)
{
  return txn->started;
}

gboolean
treectld_transaction_matches (TreectldTransaction *txn, const char *method, GVariant *params)
{
  return !txn->finished && g_str_equal (txn->method, method) && g_variant_equal (txn->params, params);
}

static void
clear_timers (TreectldTransaction *txn)
{
  g_clear_handle_id (&txn->start_timeout_id, g_source_remove);
  if (txn->sender_watch_id)
    {
      g_bus_unwatch_name (txn->sender_watch_id);
      txn->sender_watch_id = 0;
    }
}

/* Nothing more will happen: stop the server and let the daemon forget us. */
static void
close_transaction (TreectldTransaction *txn)
{
  if (txn->closed)
    return;
  txn->closed = TRUE;
  g_clear_handle_id (&txn->linger_timeout_id, g_source_remove);
  g_dbus_interface_skeleton_unexport (G_DBUS_INTERFACE_SKELETON (txn->skeleton));
  g_dbus_server_stop (txn->server);
  for (guint i = 0; i < txn->peers->len; i++)
    g_dbus_connection_close (txn->peers->pdata[i], NULL, NULL, NULL);
  treectld_daemon_transaction_closed (txn->daemon, txn);
}

static gboolean
on_linger_timeout (gpointer user_data)
{
  TreectldTransaction *txn = user_data;
  txn->linger_timeout_id = 0;
  close_transaction (txn);
  return G_SOURCE_REMOVE;
}

static void
emit_finished (TreectldTransaction *txn)
{
  treectl_transaction_emit_finished (txn->skeleton, txn->success,
                                     txn->error_message ? txn->error_message : "", txn->result);
}

static void
mark_finished (TreectldTransaction *txn, gboolean success, const char *error_message,
               GVariant *result)
{
  txn->finished = TRUE;
  txn->success = success;
  txn->error_message = g_strdup (error_message);
  txn->result = result ? g_variant_ref_sink (result) : g_variant_ref_sink (g_variant_new ("a{sv}", NULL));
  clear_timers (txn);
  if (success)
    g_message ("transaction %s (%s) succeeded", txn->title, txn->method);
  else
    g_message ("transaction %s (%s) failed: %s", txn->title, txn->method, error_message);
  emit_finished (txn);
  treectld_daemon_transaction_finished (txn->daemon, txn);
  /* Keep serving for a while: a client that connects (or reconnects) late gets Finished
   * replayed when it calls Start. */
  txn->linger_timeout_id = g_timeout_add_seconds (LINGER_SECONDS, on_linger_timeout, txn);
}

void
treectld_transaction_drop (TreectldTransaction *txn, const char *reason)
{
  if (txn->finished)
    return;
  /* The server lingers, so a client that connects late still learns why. */
  mark_finished (txn, FALSE, reason, NULL);
}

/* Output sink: every libtreectl progress call becomes a signal to the connected clients.
 * Called from the worker thread (and the pull progress from the main thread); emitting on a
 * GDBusConnection is thread-safe. */
static void
sink_message (const char *text, gpointer user_data)
{
  TreectldTransaction *txn = user_data;
  treectl_transaction_emit_message (txn->skeleton, text);
}

static void
sink_task_begin (const char *text, gpointer user_data)
{
  TreectldTransaction *txn = user_data;
  treectl_transaction_emit_task_begin (txn->skeleton, text);
}

static void
sink_task_end (const char *text, gpointer user_data)
{
  TreectldTransaction *txn = user_data;
  treectl_transaction_emit_task_end (txn->skeleton, text);
}

static void
sink_percent (const char *text, guint percent, gpointer user_data)
{
  TreectldTransaction *txn = user_data;
  treectl_transaction_emit_percent_progress (txn->skeleton, text, percent);
}

static void
sink_download (GVariant *progress, gpointer user_data)
{
  TreectldTransaction *txn = user_data;
  treectl_transaction_emit_download_progress (txn->skeleton, progress);
}

static const TcOutputSink dbus_sink = {
  sink_message, sink_task_begin, sink_task_end, sink_percent, sink_download,
};

static gboolean
execute (TreectldTransaction *txn, GVariant **out_result, GCancellable *cancellable,
         GError **error)
{
  g_autoptr(OstreeSysroot) sysroot = NULL;
  if (txn->needs_sysroot)
    {
      if (!tc_sysroot_open (txn->daemon->sysroot_path, &sysroot, cancellable, error))
        return FALSE;
      gboolean acquired = FALSE;
      if (!ostree_sysroot_try_lock (sysroot, &acquired, error))
        return FALSE;
      if (!acquired)
        return tc_throw (error, "sysroot %s is locked by another process (an ostree or treectl "
                                "operation is running there)",
                         txn->daemon->sysroot_path);
      /* Reload under the lock: another process may have changed it since we opened it. */
      if (!ostree_sysroot_load (sysroot, cancellable, error))
        {
          ostree_sysroot_unlock (sysroot);
          return FALSE;
        }
    }
  gboolean ok = txn->func (txn, sysroot, out_result, cancellable, error);
  if (sysroot)
    ostree_sysroot_unlock (sysroot);
  return ok;
}

static void
worker_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  TreectldTransaction *txn = task_data;
  g_autoptr(GError) local_error = NULL;
  g_autoptr(GVariant) result = NULL;
  /* libostree's pull iterates the thread-default context: give the worker its own, or it
   * would wait forever for the main thread's. Pull progress is then delivered here too. */
  g_autoptr(GMainContext) context = g_main_context_new ();
  g_main_context_push_thread_default (context);
  tc_output_set_sink (&dbus_sink, txn);
  gboolean ok = execute (txn, &result, cancellable, &local_error);
  tc_output_set_sink (NULL, NULL);
  g_main_context_pop_thread_default (context);
  if (!ok)
    g_task_return_error (task, g_steal_pointer (&local_error));
  else
    g_task_return_pointer (task, result ? g_variant_ref (result) : NULL,
                           (GDestroyNotify)g_variant_unref);
}

static void
on_worker_done (GObject *source, GAsyncResult *res, gpointer user_data)
{
  TreectldTransaction *txn = user_data;
  g_autoptr(GError) local_error = NULL;
  g_autoptr(GVariant) result = g_task_propagate_pointer (G_TASK (res), &local_error);
  if (local_error)
    {
      if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        mark_finished (txn, FALSE, "cancelled", NULL);
      else
        mark_finished (txn, FALSE, local_error->message, NULL);
    }
  else
    mark_finished (txn, TRUE, NULL, g_steal_pointer (&result));
  treectld_transaction_unref (txn);
}

static gboolean
handle_start (TreectlTransaction *skeleton, GDBusMethodInvocation *invocation, gpointer user_data)
{
  TreectldTransaction *txn = user_data;
  treectld_daemon_touch (txn->daemon);
  if (txn->finished)
    {
      /* A late client: tell it how things ended, on its own connection only. */
      treectl_transaction_complete_start (skeleton, invocation, FALSE);
      g_dbus_connection_emit_signal (
          g_dbus_method_invocation_get_connection (invocation), NULL, TREECTLD_TRANSACTION_PATH,
          "org.treectl.Treectl1.Transaction", "Finished",
          g_variant_new ("(bs@a{sv})", txn->success, txn->error_message ? txn->error_message : "",
                         txn->result),
          NULL);
      return TRUE;
    }
  if (txn->started)
    {
      treectl_transaction_complete_start (skeleton, invocation, FALSE);
      return TRUE;
    }
  txn->started = TRUE;
  clear_timers (txn);
  g_message ("starting transaction %s", txn->title);
  g_autoptr(GTask) task = g_task_new (NULL, txn->cancellable, on_worker_done,
                                      treectld_transaction_ref (txn));
  g_task_set_task_data (task, txn, NULL);
  g_task_run_in_thread (task, worker_thread);
  treectl_transaction_complete_start (skeleton, invocation, TRUE);
  return TRUE;
}

static gboolean
handle_cancel (TreectlTransaction *skeleton, GDBusMethodInvocation *invocation, gpointer user_data)
{
  TreectldTransaction *txn = user_data;
  g_message ("cancelling transaction %s", txn->title);
  if (!txn->started && !txn->finished)
    treectld_transaction_drop (txn, "cancelled before it started");
  else
    g_cancellable_cancel (txn->cancellable);
  treectl_transaction_complete_cancel (skeleton, invocation);
  return TRUE;
}

static gboolean
on_start_timeout (gpointer user_data)
{
  TreectldTransaction *txn = user_data;
  txn->start_timeout_id = 0;
  g_autofree char *reason = g_strdup_printf ("no client called Start within %u seconds",
                                             txn->daemon->start_timeout);
  g_message ("dropping transaction %s: %s", txn->title, reason);
  treectld_transaction_drop (txn, reason);
  return G_SOURCE_REMOVE;
}

static void
on_sender_vanished (GDBusConnection *connection, const char *name, gpointer user_data)
{
  TreectldTransaction *txn = user_data;
  if (txn->started || txn->finished)
    return;
  g_message ("dropping transaction %s: client %s disconnected before calling Start", txn->title,
             name);
  treectld_transaction_drop (txn, "client disconnected before calling Start");
}

static void
on_peer_closed (GDBusConnection *connection, gboolean remote_peer_vanished, GError *error,
                gpointer user_data)
{
  TreectldTransaction *txn = user_data;
  g_signal_handlers_disconnect_by_data (connection, txn);
  g_ptr_array_remove (txn->peers, connection);
}

static gboolean
on_new_connection (GDBusServer *server, GDBusConnection *connection, gpointer user_data)
{
  TreectldTransaction *txn = user_data;
  g_autoptr(GError) local_error = NULL;
  if (txn->closed)
    return FALSE;
  if (!g_dbus_interface_skeleton_export (G_DBUS_INTERFACE_SKELETON (txn->skeleton), connection,
                                         TREECTLD_TRANSACTION_PATH, &local_error))
    {
      g_warning ("exporting transaction: %s", local_error->message);
      return FALSE;
    }
  g_ptr_array_add (txn->peers, g_object_ref (connection));
  g_signal_connect (connection, "closed", G_CALLBACK (on_peer_closed), txn);
  return TRUE;
}

static gboolean
on_authorize_peer (GDBusAuthObserver *observer, GIOStream *stream, GCredentials *credentials,
                   gpointer user_data)
{
  TreectldTransaction *txn = user_data;
  if (!credentials)
    return FALSE;
  uid_t uid = g_credentials_get_unix_user (credentials, NULL);
  return uid == 0 || uid == txn->uid || uid == getuid ();
}

static gboolean
on_allow_mechanism (GDBusAuthObserver *observer, const char *mechanism, gpointer user_data)
{
  return g_str_equal (mechanism, "EXTERNAL");
}

TreectldTransaction *
treectld_transaction_new (TreectldDaemon *daemon, const char *title, const char *method,
                          GVariant *params, const char *sender, uid_t uid, gboolean needs_sysroot,
                          TreectldTxnFunc func, GError **error)
{
  g_autoptr(TreectldTransaction) txn = g_new0 (TreectldTransaction, 1);
  txn->refcount = 1;
  txn->daemon = daemon;
  txn->title = g_strdup (title);
  txn->method = g_strdup (method);
  txn->params = g_variant_ref_sink (params);
  txn->sender = g_strdup (sender);
  txn->uid = uid;
  txn->needs_sysroot = needs_sysroot;
  txn->func = func;
  txn->peers = g_ptr_array_new_with_free_func (g_object_unref);
  txn->cancellable = g_cancellable_new ();
  txn->skeleton = treectl_transaction_skeleton_new ();
  treectl_transaction_set_title (txn->skeleton, title);
  g_signal_connect (txn->skeleton, "handle-start", G_CALLBACK (handle_start), txn);
  g_signal_connect (txn->skeleton, "handle-cancel", G_CALLBACK (handle_cancel), txn);

  txn->observer = g_dbus_auth_observer_new ();
  g_signal_connect (txn->observer, "authorize-authenticated-peer", G_CALLBACK (on_authorize_peer),
                    txn);
  g_signal_connect (txn->observer, "allow-mechanism", G_CALLBACK (on_allow_mechanism), txn);
  g_autofree char *guid = g_dbus_generate_guid ();
  g_autofree char *address = g_strdup_printf ("unix:dir=%s", daemon->runtime_dir);
  txn->server = g_dbus_server_new_sync (address, G_DBUS_SERVER_FLAGS_NONE, guid, txn->observer,
                                        NULL, error);
  if (!txn->server)
    {
      g_prefix_error (error, "creating the transaction server in %s: ", daemon->runtime_dir);
      return NULL;
    }
  g_signal_connect (txn->server, "new-connection", G_CALLBACK (on_new_connection), txn);
  g_dbus_server_start (txn->server);

  txn->start_timeout_id = g_timeout_add_seconds (daemon->start_timeout, on_start_timeout, txn);
  if (sender)
    txn->sender_watch_id = g_bus_watch_name_on_connection (
        daemon->connection, sender, G_BUS_NAME_WATCHER_FLAGS_NONE, NULL, on_sender_vanished, txn,
        NULL);
  g_message ("created transaction %s for %s (uid %u)", title, sender ? sender : "peer",
             (guint)uid);
  return g_steal_pointer (&txn);
}

void
treectld_transaction_set_fd_list (TreectldTransaction *txn, GUnixFDList *fd_list)
{
  g_set_object (&txn->fd_list, fd_list);
}

GUnixFDList *
treectld_transaction_get_fd_list (TreectldTransaction *txn)
{
  return txn->fd_list;
}
