/* SPDX-License-Identifier: LGPL-2.1-or-later
 * treectld: owns org.treectl.Treectl1 on the system bus, or serves one private peer
 * connection (--peer-fd) for "treectl --sysroot DIR". */
#include "config.h"

#include <errno.h>
#include <glib-unix.h>
#include <locale.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "treectld-daemon.h"

static char *opt_sysroot = NULL;
static int opt_peer_fd = -1;
static char *opt_config = NULL;
static gboolean opt_version = FALSE;
static gboolean opt_debug = FALSE;

static GOptionEntry option_entries[] = {
  { "sysroot", 0, 0, G_OPTION_ARG_FILENAME, &opt_sysroot, "Manage the sysroot at DIR (default: /)",
    "DIR" },
  { "peer-fd", 0, 0, G_OPTION_ARG_INT, &opt_peer_fd,
    "Serve one peer-to-peer D-Bus connection on FD instead of the system bus", "FD" },
  { "config", 0, 0, G_OPTION_ARG_FILENAME, &opt_config,
    "Read settings from FILE (default: " SYSCONFDIR "/treectl/treectld.conf)", "FILE" },
  { "debug", 'd', 0, G_OPTION_ARG_NONE, &opt_debug,
    "Log every transaction step (always on for the system daemon)", NULL },
  { "version", 0, 0, G_OPTION_ARG_NONE, &opt_version, "Print the version and exit", NULL },
  { NULL }
};

static gboolean
load_config (TreectldDaemon *daemon, GError **error)
{
  daemon->idle_exit_timeout = 60;
  daemon->start_timeout = 30;
  g_autofree char *path
      = opt_config ? g_strdup (opt_config) : g_build_filename (SYSCONFDIR, "treectl", "treectld.conf", NULL);
  g_autoptr(GKeyFile) kf = g_key_file_new ();
  g_autoptr(GError) local_error = NULL;
  if (!g_key_file_load_from_file (kf, path, G_KEY_FILE_NONE, &local_error))
    {
      if (opt_config || !g_error_matches (local_error, G_FILE_ERROR, G_FILE_ERROR_NOENT))
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "config %s: %s", path,
                       local_error->message);
          return FALSE;
        }
      return TRUE;
    }
  static const char *keys[] = { "IdleExitTimeout", "StartTimeout" };
  guint *targets[] = { &daemon->idle_exit_timeout, &daemon->start_timeout };
  for (guint i = 0; i < G_N_ELEMENTS (keys); i++)
    {
      if (!g_key_file_has_key (kf, "Daemon", keys[i], NULL))
        continue;
      g_autofree char *value = g_key_file_get_string (kf, "Daemon", keys[i], NULL);
      guint64 n;
      if (!value || !g_ascii_string_to_unsigned (value, 10, 0, 86400, &n, NULL))
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                       "config %s: [Daemon] %s=%s is not a number of seconds (0-86400)", path,
                       keys[i], value ? value : "");
          return FALSE;
        }
      *targets[i] = (guint)n;
    }
  if (daemon->start_timeout == 0)
    daemon->start_timeout = 1;
  return TRUE;
}

static gboolean
setup_runtime_dir (TreectldDaemon *daemon, GError **error)
{
  if (getuid () == 0 && !daemon->peer_mode)
    {
      daemon->runtime_dir = g_strdup ("/run/treectld");
      if (mkdir (daemon->runtime_dir, 0711) < 0 && errno != EEXIST)
        {
          g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno), "mkdir %s: %s",
                       daemon->runtime_dir, g_strerror (errno));
          return FALSE;
        }
      return TRUE;
    }
  daemon->runtime_dir = g_dir_make_tmp ("treectld-XXXXXX", error);
  return daemon->runtime_dir != NULL;
}

static void
on_name_acquired (GDBusConnection *connection, const char *name, gpointer user_data)
{
  g_message ("acquired %s, managing %s", name, treectld_daemon_get ()->sysroot_path);
}

static void
on_name_lost (GDBusConnection *connection, const char *name, gpointer user_data)
{
  g_printerr ("treectld: lost or could not acquire the bus name %s\n", name);
  exit (EXIT_FAILURE);
}

static void
on_peer_closed (GDBusConnection *connection, gboolean remote_peer_vanished, GError *error,
                gpointer user_data)
{
  TreectldDaemon *daemon = user_data;
  daemon->peer_closed = TRUE;
  /* A running transaction finishes first (the client may have been killed; the work must
   * not be left half done). */
  if (daemon->active == NULL || !g_main_loop_is_running (daemon->loop))
    g_main_loop_quit (daemon->loop);
}

static gboolean
on_sigterm (gpointer user_data)
{
  TreectldDaemon *daemon = user_data;
  g_message ("terminating");
  g_main_loop_quit (daemon->loop);
  return G_SOURCE_REMOVE;
}

static GDBusConnection *
open_peer_connection (int fd, GError **error)
{
  g_autoptr(GSocket) socket = g_socket_new_from_fd (fd, error);
  if (!socket)
    return NULL;
  g_autoptr(GSocketConnection) stream = g_socket_connection_factory_create_connection (socket);
  g_autofree char *guid = g_dbus_generate_guid ();
  return g_dbus_connection_new_sync (G_IO_STREAM (stream), guid,
                                     G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_SERVER
                                         | G_DBUS_CONNECTION_FLAGS_DELAY_MESSAGE_PROCESSING,
                                     NULL, NULL, error);
}

/* A private peer daemon shares the client's terminal: keep its informational messages out
 * of the user's way unless asked for. */
static void
quiet_log_handler (const char *domain, GLogLevelFlags level, const char *message, gpointer data)
{
  if (level & (G_LOG_LEVEL_MESSAGE | G_LOG_LEVEL_INFO | G_LOG_LEVEL_DEBUG))
    return;
  g_log_default_handler (domain, level, message, data);
}

int
main (int argc, char **argv)
{
  setlocale (LC_ALL, "");
  g_autoptr(GError) error = NULL;
  g_autoptr(GOptionContext) context = g_option_context_new ("- treectl host daemon");
  g_option_context_add_main_entries (context, option_entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("treectld: %s\n", error->message);
      return EXIT_FAILURE;
    }
  if (opt_version)
    {
      g_print ("treectld %s\n", PACKAGE_VERSION);
      return EXIT_SUCCESS;
    }

  TreectldDaemon *daemon = treectld_daemon_get ();
  daemon->peer_mode = opt_peer_fd >= 0;
  if (daemon->peer_mode && !opt_debug && !g_getenv ("TREECTLD_DEBUG"))
    g_log_set_default_handler (quiet_log_handler, NULL);
  g_autofree char *sysroot = opt_sysroot ? g_canonicalize_filename (opt_sysroot, NULL) : g_strdup ("/");
  daemon->sysroot_path = g_steal_pointer (&sysroot);
  if (!load_config (daemon, &error) || !setup_runtime_dir (daemon, &error))
    {
      g_printerr ("treectld: %s\n", error->message);
      return EXIT_FAILURE;
    }
  daemon->loop = g_main_loop_new (NULL, FALSE);
  g_unix_signal_add (SIGTERM, on_sigterm, daemon);
  g_unix_signal_add (SIGINT, on_sigterm, daemon);

  g_autoptr(GDBusConnection) connection = NULL;
  guint owner_id = 0;
  if (daemon->peer_mode)
    {
      connection = open_peer_connection (opt_peer_fd, &error);
      if (!connection)
        {
          g_printerr ("treectld: peer connection on fd %d: %s\n", opt_peer_fd, error->message);
          return EXIT_FAILURE;
        }
      g_signal_connect (connection, "closed", G_CALLBACK (on_peer_closed), daemon);
      if (!treectld_daemon_start (daemon, connection, &error))
        {
          g_printerr ("treectld: %s\n", error->message);
          return EXIT_FAILURE;
        }
      g_dbus_connection_start_message_processing (connection);
    }
  else
    {
      connection = g_bus_get_sync (G_BUS_TYPE_SYSTEM, NULL, &error);
      if (!connection)
        {
          g_printerr ("treectld: connecting to the system bus: %s\n", error->message);
          return EXIT_FAILURE;
        }
      g_dbus_connection_set_exit_on_close (connection, TRUE);
      /* Export before owning the name, so an activated client finds the objects at once. */
      if (!treectld_daemon_start (daemon, connection, &error))
        {
          g_printerr ("treectld: %s\n", error->message);
          return EXIT_FAILURE;
        }
      owner_id = g_bus_own_name_on_connection (connection, TREECTLD_BUS_NAME,
                                               G_BUS_NAME_OWNER_FLAGS_NONE, on_name_acquired,
                                               on_name_lost, NULL, NULL);
    }

  g_main_loop_run (daemon->loop);
  /* A peer client went away mid-transaction: let the work finish before exiting. */
  while (daemon->active != NULL)
    g_main_context_iteration (NULL, TRUE);
  if (owner_id)
    g_bus_unown_name (owner_id);
  if (daemon->peer_mode && daemon->runtime_dir)
    (void)rmdir (daemon->runtime_dir);
  return EXIT_SUCCESS;
}
