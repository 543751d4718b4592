//! The environments against Gymnasium: fixed start states and action sequences replayed
//! step by step against the trajectories Gymnasium 1.x printed
//! (`bench/reference/control_trajectories.py`, output in `gymnasium_trajectories.txt`):
//! every state variable within 1e-6, the same rewards and the same terminal step.

#![allow(clippy::unwrap_used)] // Tests fail loudly by design.

use nas_control::{Acrobot, CartPole, Environment, make, names};
use nas_core::Rng;

/// One replay: the environment, the start state, per step the action, state, reward
/// and whether it ended the episode.
struct Replay {
    env: String,
    start: [f64; 4],
    steps: Vec<(usize, [f64; 4], f64, bool)>,
}

fn numbers(text: &str) -> Vec<f64> {
    text.split([',', '[', ']', '(', ')'])
        .map(str::trim)
        .filter(|t| !t.is_empty() && *t != "true" && *t != "false")
        .map(|t| t.parse().unwrap())
        .collect()
}

fn replays() -> Vec<Replay> {
    let mut replays: Vec<Replay> = Vec::new();
    for line in include_str!("gymnasium_trajectories.txt").lines() {
        if let Some(rest) = line.strip_prefix("# ") {
            let (env, start) = rest.split_once(" start ").unwrap();
            let s = numbers(start);
            replays.push(Replay {
                env: env.to_string(),
                start: [s[0], s[1], s[2], s[3]],
                steps: Vec::new(),
            });
        } else if line.starts_with('(') {
            let v = numbers(line);
            let terminated = line.contains("true");
            let replay = replays.last_mut().unwrap();
            assert_eq!(v[0] as usize, replay.steps.len() + 1);
            replay
                .steps
                .push((v[1] as usize, [v[2], v[3], v[4], v[5]], v[6], terminated));
        }
    }
    replays
}

/// Replays `replay` on `env`, whose state `state_of` reads; how many steps ended it.
fn check<E: Environment>(mut env: E, state_of: fn(&E) -> [f64; 4], replay: &Replay) -> usize {
    let mut terminal = 0;
    for (t, (action, expected, reward, terminated)) in replay.steps.iter().enumerate() {
        let step = env.step(*action);
        for (i, (got, want)) in state_of(&env).iter().zip(expected).enumerate() {
            assert!(
                (got - want).abs() <= 1e-6,
                "{} step {}: state[{i}] {got} against Gymnasium's {want}",
                replay.env,
                t + 1
            );
        }
        assert_eq!(step.reward, *reward, "{} step {}", replay.env, t + 1);
        assert_eq!(
            step.terminated,
            *terminated,
            "{} step {}",
            replay.env,
            t + 1
        );
        terminal += usize::from(step.terminated);
    }
    terminal
}

#[test]
fn fixed_action_sequences_follow_gymnasiums_trajectories() {
    let replays = replays();
    assert_eq!(replays.len(), 5, "two CartPole and three Acrobot replays");
    let mut terminal = 0;
    for replay in &replays {
        let start = replay.start;
        terminal += match replay.env.as_str() {
            "CartPole-v1" => check(CartPole { state: start }, |e| e.state, replay),
            "Acrobot-v1" => check(Acrobot { state: start }, |e| e.state, replay),
            other => panic!("unknown {other}"),
        };
    }
    // Both CartPole replays fall over; one Acrobot replay swings up (and wraps an angle).
    assert_eq!(terminal, 3);
}

#[test]
fn a_hand_computed_cartpole_step() {
    // From rest, pushing right: temp = 10 / 1.1; theta_acc = -cos * temp / (0.5 * (4/3 -
    // 0.1 / 1.1)); x_acc = temp - 0.05 * theta_acc / 1.1. Euler moves only the velocities.
    let mut env = CartPole::default();
    let step = env.step(1);
    let temp = 10.0 / 1.1;
    let theta_acc = -temp / (0.5 * (4.0 / 3.0 - 0.1 / 1.1));
    let x_acc = temp - 0.05 * theta_acc / 1.1;
    assert_eq!(env.state[0], 0.0);
    assert!((env.state[1] - 0.02 * x_acc).abs() < 1e-12);
    assert_eq!(env.state[2], 0.0);
    assert!((env.state[3] - 0.02 * theta_acc).abs() < 1e-12);
    assert_eq!(step.observation.len(), 4);
    assert!(!step.terminated);
}

#[test]
fn resets_are_seeded_and_within_gymnasiums_bounds() {
    for name in ["cartpole", "acrobot"] {
        let mut a = make(name).unwrap();
        let mut b = make(name).unwrap();
        let (mut ra, mut rb) = (Rng::new(9), Rng::new(9));
        for _ in 0..50 {
            let (oa, ob) = (a.reset(&mut ra), b.reset(&mut rb));
            assert_eq!(oa, ob);
            assert_eq!(oa.len(), a.observation_size());
        }
    }
    let mut rng = Rng::new(1);
    let (mut cartpole, mut acrobot) = (CartPole::default(), Acrobot::default());
    for _ in 0..200 {
        cartpole.reset(&mut rng);
        acrobot.reset(&mut rng);
        assert!(cartpole.state.iter().all(|v| v.abs() <= 0.05));
        assert!(
            acrobot
                .state
                .iter()
                .all(|v| v.abs() <= 0.1 && *v == *v as f32 as f64)
        );
    }
}

#[test]
fn environments_are_found_by_name_or_gymnasium_id() {
    assert_eq!(names(), vec!["acrobot", "cartpole"]);
    assert_eq!(make("CartPole-v1").unwrap().actions(), 2);
    assert_eq!(make("Acrobot-v1").unwrap().observation_size(), 6);
    let err = make("pendulum").unwrap_err();
    assert!(
        err.contains("unknown environment `pendulum`") && err.contains("acrobot, cartpole"),
        "{err}"
    );
}
