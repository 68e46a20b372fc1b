/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Caller authorization for mutating calls. */
#include "config.h"

#include <polkit/polkit.h>
#include <unistd.h>

#include "tc-util.h"
#include "treectld-auth.h"

gboolean
treectld_auth_get_caller_uid (GDBusMethodInvocation *invocation, uid_t *out_uid, GError **error)
{
  GDBusConnection *connection = g_dbus_method_invocation_get_connection (invocation);
  const char *sender = g_dbus_method_invocation_get_sender (invocation);
  if (sender == NULL)
    {
      /* A peer-to-peer connection: the kernel told the server who is on the other end. */
      GCredentials *creds = g_dbus_connection_get_peer_credentials (connection);
      if (!creds)
        return tc_throw (error, "cannot determine the caller's credentials");
      uid_t uid = g_credentials_get_unix_user (creds, error);
      if (uid == (uid_t)-1)
        return FALSE;
      *out_uid = uid;
      return TRUE;
    }
  g_autoptr(GVariant) reply = g_dbus_connection_call_sync (
      connection, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
      "GetConnectionUnixUser", g_variant_new ("(s)", sender), G_VARIANT_TYPE ("(u)"),
      G_DBUS_CALL_FLAGS_NONE, -1, NULL, error);
  if (!reply)
    return FALSE;
  guint32 uid;
  g_variant_get (reply, "(u)", &uid);
  *out_uid = uid;
  return TRUE;
}

static gboolean
polkit_is_running (GDBusConnection *connection)
{
  g_autoptr(GVariant) reply = g_dbus_connection_call_sync (
      connection, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
      "NameHasOwner", g_variant_new ("(s)", "org.freedesktop.PolicyKit1"), G_VARIANT_TYPE ("(b)"),
      G_DBUS_CALL_FLAGS_NONE, -1, NULL, NULL);
  gboolean has_owner = FALSE;
  if (reply)
    g_variant_get (reply, "(b)", &has_owner);
  return has_owner;
}

gboolean
treectld_auth_check (GDBusMethodInvocation *invocation, const char *action, GError **error)
{
  uid_t uid;
  if (!treectld_auth_get_caller_uid (invocation, &uid, error))
    return FALSE;
  /* root, and on a private peer connection the user who started this daemon. */
  if (uid == 0 || (g_dbus_method_invocation_get_sender (invocation) == NULL && uid == getuid ()))
    return TRUE;

  g_autofree char *action_id = g_strconcat ("org.treectl.Treectl1.", action, NULL);
  GDBusConnection *connection = g_dbus_method_invocation_get_connection (invocation);
  const char *sender = g_dbus_method_invocation_get_sender (invocation);
  if (sender && polkit_is_running (connection))
    {
      g_autoptr(GError) local_error = NULL;
      g_autoptr(PolkitAuthority) authority = polkit_authority_get_sync (NULL, &local_error);
      if (authority)
        {
          g_autoptr(PolkitSubject) subject = polkit_system_bus_name_new (sender);
          g_autoptr(PolkitAuthorizationResult) result = polkit_authority_check_authorization_sync (
              authority, subject, action_id, NULL,
              POLKIT_CHECK_AUTHORIZATION_FLAGS_ALLOW_USER_INTERACTION, NULL, &local_error);
          if (result && polkit_authorization_result_get_is_authorized (result))
            return TRUE;
          if (!result)
            return tc_throw (error, "not authorized: polkit check for %s failed: %s", action_id,
                             local_error->message);
          return tc_throw (error, "not authorized: polkit denied %s to uid %u", action_id,
                           (guint)uid);
        }
    }
  return tc_throw (error, "not authorized: %s needs root (caller is uid %u and polkit is not "
                          "running)", action_id, (guint)uid);
}
