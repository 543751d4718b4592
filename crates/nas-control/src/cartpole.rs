//! CartPole-v1 (Barto, Sutton & Anderson 1983), as Gymnasium's `CartPoleEnv`: Euler
//! integration every 0.02 s, a force of ±10 N, the episode over when the cart leaves
//! ±2.4 or the pole leans past 12°; reward 1 for every step, the last included.

use crate::{Environment, Step};
use nas_core::Rng;

const GRAVITY: f64 = 9.8;
const MASS_CART: f64 = 1.0;
const MASS_POLE: f64 = 0.1;
const TOTAL_MASS: f64 = MASS_POLE + MASS_CART;
/// Half the pole's length.
const LENGTH: f64 = 0.5;
const POLE_MASS_LENGTH: f64 = MASS_POLE * LENGTH;
const FORCE: f64 = 10.0;
const TAU: f64 = 0.02;
const THETA_LIMIT: f64 = 12.0 * 2.0 * std::f64::consts::PI / 360.0;
const X_LIMIT: f64 = 2.4;

/// The cart and pole: `[x, x_dot, theta, theta_dot]`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CartPole {
    pub state: [f64; 4],
}

impl CartPole {
    fn observation(&self) -> Vec<f32> {
        self.state.iter().map(|&v| v as f32).collect()
    }
}

impl Environment for CartPole {
    fn observation_size(&self) -> usize {
        4
    }

    fn actions(&self) -> usize {
        2
    }

    fn max_steps(&self) -> usize {
        500
    }

    fn reset(&mut self, rng: &mut Rng) -> Vec<f32> {
        for v in &mut self.state {
            *v = rng.uniform_in(-0.05, 0.05);
        }
        self.observation()
    }

    fn step(&mut self, action: usize) -> Step {
        let [x, x_dot, theta, theta_dot] = self.state;
        let force = if action == 1 { FORCE } else { -FORCE };
        let (sin, cos) = theta.sin_cos();
        let temp = (force + POLE_MASS_LENGTH * theta_dot * theta_dot * sin) / TOTAL_MASS;
        let theta_acc = (GRAVITY * sin - cos * temp)
            / (LENGTH * (4.0 / 3.0 - MASS_POLE * cos * cos / TOTAL_MASS));
        let x_acc = temp - POLE_MASS_LENGTH * theta_acc * cos / TOTAL_MASS;
        self.state = [
            x + TAU * x_dot,
            x_dot + TAU * x_acc,
            theta + TAU * theta_dot,
            theta_dot + TAU * theta_acc,
        ];
        let [x, _, theta, _] = self.state;
        Step {
            observation: self.observation(),
            reward: 1.0,
            terminated: !(-X_LIMIT..=X_LIMIT).contains(&x)
                || !(-THETA_LIMIT..=THETA_LIMIT).contains(&theta),
        }
    }
}
