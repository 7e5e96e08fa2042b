// Who may use a service besides the processes of the user that created it. See docs/security.md.
#pragma once

namespace axon {

/// Set on a service builder (`.access(Access::Group)`): on create it is the service's; on open
/// it is a requirement the existing service must meet exactly.
enum class Access {
  /// Only processes of the creator's effective user: files and objects 0600, directories 0700.
  Owner,
  /// Also members of the root directory's group: shared objects 0660, objects only their
  /// creator writes 0640, directories 02770, all of them of the root directory's group. Useful
  /// only in a shared root directory (docs/security.md, "Group deployments").
  Group,
};
inline constexpr Access kDefaultAccess = Access::Owner;

/// "owner" or "group", as the CLI prints it.
const char* to_string(Access access);

}  // namespace axon
