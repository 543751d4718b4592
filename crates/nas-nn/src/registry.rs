//! One registry for what a space brings beside itself (its network, its supernet, its
//! relaxed supernet): a plugin of kind `T` registered under the space's name, looked up
//! by that name. Each kind has its own `register_*!` macro.

/// A plugin of kind `T` for the space registered as `space`.
#[allow(missing_debug_implementations)] // A `dyn` plugin has nothing to print.
pub struct SpacePlugin<T: ?Sized + 'static> {
    pub space: &'static str,
    pub plugin: &'static T,
}

/// A kind of space plugin: what errors call it, and the macro that registers it.
pub trait SpacePluginKind {
    const WHAT: &'static str;
    const REGISTER: &'static str;
}

inventory::collect!(SpacePlugin<dyn crate::SpaceNetwork>);
inventory::collect!(SpacePlugin<dyn crate::SpaceSupernet>);
inventory::collect!(SpacePlugin<dyn crate::SpaceRelaxed>);

impl SpacePluginKind for dyn crate::SpaceNetwork {
    const WHAT: &'static str = "network";
    const REGISTER: &'static str = "register_network!";
}

impl SpacePluginKind for dyn crate::SpaceSupernet {
    const WHAT: &'static str = "weight-sharing supernet";
    const REGISTER: &'static str = "register_supernet!";
}

impl SpacePluginKind for dyn crate::SpaceRelaxed {
    const WHAT: &'static str = "relaxed supernet";
    const REGISTER: &'static str = "register_relaxed!";
}

/// The names of the spaces with a plugin of kind `T`, sorted, each once.
pub fn names<T: ?Sized + SpacePluginKind>() -> Vec<&'static str>
where
    SpacePlugin<T>: inventory::Collect,
{
    let mut names: Vec<&'static str> = inventory::iter::<SpacePlugin<T>>
        .into_iter()
        .map(|p| p.space)
        .collect();
    names.sort_unstable();
    names.dedup();
    names
}

/// The plugin of kind `T` registered for `space`.
///
/// # Errors
/// No crate linked into this program registers one, or two do: the message names the
/// spaces that have one and the macro that registers it.
pub fn lookup<T: ?Sized + SpacePluginKind>(space: &str) -> Result<&'static T, String>
where
    SpacePlugin<T>: inventory::Collect,
{
    let (what, register) = (T::WHAT, T::REGISTER);
    let mut found = inventory::iter::<SpacePlugin<T>>
        .into_iter()
        .filter(|p| p.space == space);
    match (found.next(), found.next()) {
        (Some(p), None) => Ok(p.plugin),
        (Some(_), Some(_)) => Err(format!(
            "two crates register a {what} for the space `{space}`; link one"
        )),
        (None, _) => {
            let known = names::<T>();
            let known = if known.is_empty() {
                "none".to_string()
            } else {
                known.join(", ")
            };
            Err(format!(
                "no {what} is registered for the space `{space}` (a space crate registers one with nas_nn::{register}); spaces with a {what}: {known}"
            ))
        }
    }
}
