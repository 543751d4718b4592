//! Classic-control environments, written from Gymnasium's source (1.x) so that a policy
//! searched here meets the task the RL literature reports on: CartPole-v1 and Acrobot-v1,
//! their dynamics, rewards, termination and 500-step limits. The tests replay fixed
//! action sequences against trajectories Gymnasium printed
//! (`bench/reference/control_trajectories.py`).
//!
//! Why our own and not a crate: the dynamics are some sixty lines each, and the Rust
//! ports we found (`gym-rs`) are unmaintained and pull in SDL for rendering. Gymnasium
//! seeds its start states with NumPy's generator, which we do not reproduce: ours come
//! from [`nas_core::Rng`], so a seed means the same episodes forever, not Gymnasium's.
//!
//! An environment is a plugin like any other: a crate submits an [`EnvPlugin`] and
//! [`make`] finds it by name.

mod acrobot;
mod cartpole;

pub use acrobot::Acrobot;
pub use cartpole::CartPole;

use nas_core::Rng;

/// The result of one step.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    pub observation: Vec<f32>,
    pub reward: f64,
    /// The episode ended in a terminal state (the pole fell, the tip swung up). An
    /// episode cut by the step limit is not terminated: a learner bootstraps from it.
    pub terminated: bool,
}

/// A control task with a discrete action set and a vector observation.
pub trait Environment: Send + std::fmt::Debug {
    /// Length of the observation vector.
    fn observation_size(&self) -> usize;

    /// Number of discrete actions.
    fn actions(&self) -> usize;

    /// Steps after which an episode is cut (Gymnasium's `max_episode_steps`).
    fn max_steps(&self) -> usize;

    /// A new episode's first observation, its start state drawn from `rng`.
    fn reset(&mut self, rng: &mut Rng) -> Vec<f32>;

    /// Applies `action` (below [`actions`](Self::actions)).
    fn step(&mut self, action: usize) -> Step;
}

/// A registered environment: its name, the Gymnasium id it follows, and a constructor.
#[derive(Debug)]
pub struct EnvPlugin {
    pub name: &'static str,
    pub gym_id: &'static str,
    pub summary: &'static str,
    pub make: fn() -> Box<dyn Environment>,
}

inventory::collect!(EnvPlugin);

inventory::submit! {
    EnvPlugin {
        name: "cartpole",
        gym_id: "CartPole-v1",
        summary: "balance a pole on a cart: 4 observations, 2 actions, +1 a step, 500 steps (solved at 475)",
        make: || Box::new(CartPole::default()),
    }
}

inventory::submit! {
    EnvPlugin {
        name: "acrobot",
        gym_id: "Acrobot-v1",
        summary: "swing a two-link arm's tip above a line: 6 observations, 3 actions, -1 a step, 500 steps",
        make: || Box::new(Acrobot::default()),
    }
}

/// The registered environments, sorted by name.
pub fn environments() -> Vec<&'static EnvPlugin> {
    let mut all: Vec<_> = inventory::iter::<EnvPlugin>().collect();
    all.sort_unstable_by_key(|p| p.name);
    all
}

/// The registered environments' names, sorted.
pub fn names() -> Vec<&'static str> {
    let mut names: Vec<_> = inventory::iter::<EnvPlugin>().map(|p| p.name).collect();
    names.sort_unstable();
    names
}

/// The registered environment called `name` (or by its Gymnasium id, as `CartPole-v1`).
///
/// # Errors
/// No environment has that name: the message lists those that exist.
pub fn find(name: &str) -> Result<&'static EnvPlugin, String> {
    inventory::iter::<EnvPlugin>()
        .find(|p| p.name == name || p.gym_id == name)
        .ok_or_else(|| {
            format!(
                "unknown environment `{}`; registered: {}",
                nas_core::text::shorten(name),
                names().join(", ")
            )
        })
}

/// A new instance of the environment [`find`] finds.
///
/// # Errors
/// As [`find`].
pub fn make(name: &str) -> Result<Box<dyn Environment>, String> {
    find(name).map(|p| (p.make)())
}
