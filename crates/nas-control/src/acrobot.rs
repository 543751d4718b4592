//! Acrobot-v1 (Sutton & Barto's book version of the dynamics), as Gymnasium's
//! `AcrobotEnv`: two links hanging down, a torque of -1, 0 or +1 on the joint between
//! them, one RK4 step of 0.2 s per action; angles wrapped to [-pi, pi], velocities bounded
//! to 4 pi and 9 pi. The episode ends when the tip rises one link length above the pivot;
//! reward -1 for each step that does not end it.

use crate::{Environment, Step};
use nas_core::Rng;
use std::f64::consts::PI;

const DT: f64 = 0.2;
const LINK_LENGTH_1: f64 = 1.0;
const LINK_MASS_1: f64 = 1.0;
const LINK_MASS_2: f64 = 1.0;
const LINK_COM_1: f64 = 0.5;
const LINK_COM_2: f64 = 0.5;
const LINK_MOI: f64 = 1.0;
const MAX_VEL_1: f64 = 4.0 * PI;
const MAX_VEL_2: f64 = 9.0 * PI;
const TORQUES: [f64; 3] = [-1.0, 0.0, 1.0];
const GRAVITY: f64 = 9.8;

/// The two links: `[theta1, theta2, theta1_dot, theta2_dot]`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Acrobot {
    pub state: [f64; 4],
}

impl Acrobot {
    fn observation(&self) -> Vec<f32> {
        let [t1, t2, d1, d2] = self.state;
        [t1.cos(), t1.sin(), t2.cos(), t2.sin(), d1, d2]
            .iter()
            .map(|&v| v as f32)
            .collect()
    }

    fn terminal(&self) -> bool {
        let [t1, t2, ..] = self.state;
        -t1.cos() - (t2 + t1).cos() > 1.0
    }
}

/// The derivative of `[theta1, theta2, theta1_dot, theta2_dot]` under `torque`.
fn derivative(s: [f64; 4], torque: f64) -> [f64; 4] {
    let (m1, m2, l1, lc1, lc2, i1, i2) = (
        LINK_MASS_1,
        LINK_MASS_2,
        LINK_LENGTH_1,
        LINK_COM_1,
        LINK_COM_2,
        LINK_MOI,
        LINK_MOI,
    );
    let [theta1, theta2, dtheta1, dtheta2] = s;
    let d1 = m1 * lc1 * lc1 + m2 * (l1 * l1 + lc2 * lc2 + 2.0 * l1 * lc2 * theta2.cos()) + i1 + i2;
    let d2 = m2 * (lc2 * lc2 + l1 * lc2 * theta2.cos()) + i2;
    let phi2 = m2 * lc2 * GRAVITY * (theta1 + theta2 - PI / 2.0).cos();
    let phi1 = -m2 * l1 * lc2 * dtheta2 * dtheta2 * theta2.sin()
        - 2.0 * m2 * l1 * lc2 * dtheta2 * dtheta1 * theta2.sin()
        + (m1 * lc1 + m2 * l1) * GRAVITY * (theta1 - PI / 2.0).cos()
        + phi2;
    let ddtheta2 =
        (torque + d2 / d1 * phi1 - m2 * l1 * lc2 * dtheta1 * dtheta1 * theta2.sin() - phi2)
            / (m2 * lc2 * lc2 + i2 - d2 * d2 / d1);
    let ddtheta1 = -(d2 * ddtheta2 + phi1) / d1;
    [dtheta1, dtheta2, ddtheta1, ddtheta2]
}

/// One classic fourth-order Runge-Kutta step of `dt`.
fn rk4(s: [f64; 4], torque: f64, dt: f64) -> [f64; 4] {
    let add = |a: [f64; 4], k: [f64; 4], h: f64| std::array::from_fn(|i| a[i] + h * k[i]);
    let k1 = derivative(s, torque);
    let k2 = derivative(add(s, k1, dt / 2.0), torque);
    let k3 = derivative(add(s, k2, dt / 2.0), torque);
    let k4 = derivative(add(s, k3, dt), torque);
    std::array::from_fn(|i| s[i] + dt / 6.0 * (k1[i] + 2.0 * k2[i] + 2.0 * k3[i] + k4[i]))
}

/// `x` moved by whole turns into `[-pi, pi]`, as Gymnasium's `wrap`.
fn wrap(mut x: f64) -> f64 {
    while x > PI {
        x -= 2.0 * PI;
    }
    while x < -PI {
        x += 2.0 * PI;
    }
    x
}

impl Environment for Acrobot {
    fn observation_size(&self) -> usize {
        6
    }

    fn actions(&self) -> usize {
        3
    }

    fn max_steps(&self) -> usize {
        500
    }

    fn reset(&mut self, rng: &mut Rng) -> Vec<f32> {
        // Gymnasium draws the start state in float32.
        for v in &mut self.state {
            *v = rng.uniform_in(-0.1, 0.1) as f32 as f64;
        }
        self.observation()
    }

    fn step(&mut self, action: usize) -> Step {
        let torque = TORQUES[action.min(TORQUES.len() - 1)];
        let [t1, t2, d1, d2] = rk4(self.state, torque, DT);
        self.state = [
            wrap(t1),
            wrap(t2),
            d1.clamp(-MAX_VEL_1, MAX_VEL_1),
            d2.clamp(-MAX_VEL_2, MAX_VEL_2),
        ];
        let terminated = self.terminal();
        Step {
            observation: self.observation(),
            reward: if terminated { 0.0 } else { -1.0 },
            terminated,
        }
    }
}
