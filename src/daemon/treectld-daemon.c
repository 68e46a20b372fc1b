/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Daemon state: exported objects, status refresh, transaction bookkeeping, idle exit. */
#include "config.h"

#include "tc-sysroot.h"
#include "treectld-daemon.h"
#include "treectld-operations.h"
#include "treectld-transaction.h"

static TreectldDaemon the_daemon;

TreectldDaemon *
treectld_daemon_get (void)
{
  return &the_daemon;
}

void
treectld_daemon_touch (TreectldDaemon *daemon)
{
  daemon->last_activity = g_get_monotonic_time ();
}

void
treectld_daemon_publish_active (TreectldDaemon *daemon)
{
  TreectldTransaction *txn = daemon->active;
  if (txn)
    treectl_sysroot_set_active_transaction (
        daemon->sysroot_iface,
        g_variant_new ("(sss)", treectld_transaction_get_title (txn),
                       treectld_transaction_get_sender (txn),
                       treectld_transaction_get_address (txn)));
  else
    treectl_sysroot_set_active_transaction (daemon->sysroot_iface,
                                            g_variant_new ("(sss)", "", "", ""));
}

static char *
os_object_path (const char *osname)
{
  g_autofree char *escaped = g_dbus_escape_object_path (osname);
  return g_strconcat (TREECTLD_BASE_PATH "/OS/", escaped, NULL);
}

/* Exports one OS object per stateroot directory and unexports vanished ones. */
static void
sync_os_objects (TreectldDaemon *daemon)
{
  g_autoptr(GHashTable) present = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autofree char *deploy_dir = g_build_filename (daemon->sysroot_path, "ostree", "deploy", NULL);
  g_autoptr(GDir) dir = daemon->sysroot ? g_dir_open (deploy_dir, 0, NULL) : NULL;
  const char *name;
  while (dir && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_build_filename (deploy_dir, name, NULL);
      if (g_file_test (path, G_FILE_TEST_IS_DIR))
        g_hash_table_add (present, g_strdup (name));
    }

  GHashTableIter iter;
  gpointer key, value;
  g_hash_table_iter_init (&iter, daemon->os_objects);
  while (g_hash_table_iter_next (&iter, &key, &value))
    if (!g_hash_table_contains (present, key))
      {
        g_dbus_object_manager_server_unexport (
            daemon->manager, g_dbus_object_get_object_path (G_DBUS_OBJECT (value)));
        g_hash_table_iter_remove (&iter);
      }
  g_hash_table_iter_init (&iter, present);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    {
      if (g_hash_table_contains (daemon->os_objects, key))
        continue;
      g_autofree char *path = os_object_path (key);
      g_autoptr(TreectlObjectSkeleton) object = treectl_object_skeleton_new (path);
      g_autoptr(TreectlOS) os = treectl_os_skeleton_new ();
      treectl_os_set_name (os, key);
      treectld_operations_connect_os (daemon, os);
      treectl_object_skeleton_set_os (object, os);
      g_dbus_object_manager_server_export (daemon->manager, G_DBUS_OBJECT_SKELETON (object));
      g_hash_table_insert (daemon->os_objects, g_strdup (key), g_steal_pointer (&object));
    }
}

void
treectld_daemon_reload (TreectldDaemon *daemon)
{
  g_autoptr(GError) local_error = NULL;
  if (daemon->sysroot)
    {
      gboolean changed = FALSE;
      if (!ostree_sysroot_load_if_changed (daemon->sysroot, &changed, NULL, &local_error))
        {
          g_warning ("reloading %s: %s", daemon->sysroot_path, local_error->message);
          g_clear_object (&daemon->sysroot);
        }
    }
  else if (tc_sysroot_check_path (daemon->sysroot_path, NULL))
    {
      if (!tc_sysroot_open (daemon->sysroot_path, &daemon->sysroot, NULL, &local_error))
        g_warning ("%s", local_error->message);
    }

  if (daemon->sysroot)
    {
      /* Always republish: the lock-free load_if_changed misses origin-only and signature
       * changes, and describing a handful of deployments is cheap. */
      treectl_sysroot_set_deployments (daemon->sysroot_iface,
                                       tc_sysroot_describe_deployments (daemon->sysroot, NULL));
      OstreeDeployment *booted = ostree_sysroot_get_booted_deployment (daemon->sysroot);
      g_autofree char *booted_path
          = booted ? os_object_path (ostree_deployment_get_osname (booted)) : g_strdup ("/");
      treectl_sysroot_set_booted (daemon->sysroot_iface, booted_path);
    }
  else
    {
      treectl_sysroot_set_deployments (daemon->sysroot_iface, g_variant_new ("aa{sv}", NULL));
      treectl_sysroot_set_booted (daemon->sysroot_iface, "/");
    }
  sync_os_objects (daemon);
  g_dbus_interface_skeleton_flush (G_DBUS_INTERFACE_SKELETON (daemon->sysroot_iface));
}

void
treectld_daemon_transaction_finished (TreectldDaemon *daemon, TreectldTransaction *txn)
{
  if (daemon->active == txn)
    {
      daemon->active = NULL;
      g_ptr_array_add (daemon->finished, txn);
    }
  /* The worker used its own OstreeSysroot: load ours again. */
  g_clear_object (&daemon->sysroot);
  treectld_daemon_reload (daemon);
  treectld_daemon_publish_active (daemon);
  treectld_daemon_touch (daemon);
}

static gboolean
quit_if_done (gpointer user_data)
{
  TreectldDaemon *daemon = user_data;
  if (daemon->peer_closed && daemon->active == NULL)
    g_main_loop_quit (daemon->loop);
  return G_SOURCE_REMOVE;
}

void
treectld_daemon_transaction_closed (TreectldDaemon *daemon, TreectldTransaction *txn)
{
  if (daemon->active == txn)
    {
      daemon->active = NULL;
      treectld_daemon_publish_active (daemon);
      treectld_transaction_unref (txn);
    }
  else
    g_ptr_array_remove (daemon->finished, txn);
  g_idle_add (quit_if_done, daemon);
}

static gboolean
on_idle_check (gpointer user_data)
{
  TreectldDaemon *daemon = user_data;
  if (daemon->idle_exit_timeout == 0 || daemon->active != NULL || daemon->finished->len > 0)
    return G_SOURCE_CONTINUE;
  gint64 idle_us = g_get_monotonic_time () - daemon->last_activity;
  if (idle_us >= (gint64)daemon->idle_exit_timeout * G_USEC_PER_SEC)
    {
      g_message ("idle for %u seconds, exiting", daemon->idle_exit_timeout);
      g_main_loop_quit (daemon->loop);
      return G_SOURCE_REMOVE;
    }
  return G_SOURCE_CONTINUE;
}

gboolean
treectld_daemon_start (TreectldDaemon *daemon, GDBusConnection *connection, GError **error)
{
  daemon->connection = g_object_ref (connection);
  daemon->os_objects = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_object_unref);
  daemon->finished = g_ptr_array_new_with_free_func ((GDestroyNotify)treectld_transaction_unref);
  daemon->manager = g_dbus_object_manager_server_new (TREECTLD_BASE_PATH);

  g_autoptr(TreectlObjectSkeleton) object = treectl_object_skeleton_new (TREECTLD_SYSROOT_PATH);
  daemon->sysroot_iface = treectl_sysroot_skeleton_new ();
  treectl_sysroot_set_path (daemon->sysroot_iface, daemon->sysroot_path);
  treectld_daemon_publish_active (daemon);
  treectld_operations_connect_sysroot (daemon, daemon->sysroot_iface);
  treectl_object_skeleton_set_sysroot (object, daemon->sysroot_iface);
  g_dbus_object_manager_server_export (daemon->manager, G_DBUS_OBJECT_SKELETON (object));
  treectld_daemon_reload (daemon);
  g_dbus_object_manager_server_set_connection (daemon->manager, connection);

  treectld_daemon_touch (daemon);
  if (!daemon->peer_mode)
    g_timeout_add_seconds (1, on_idle_check, daemon);
  return TRUE;
}
