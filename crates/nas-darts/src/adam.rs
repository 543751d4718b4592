//! Adam on the architecture weights, a short `Vec<f32>`: DARTS's optimizer for alpha
//! (Liu et al. 2019: learning rate 3e-4, betas (0.5, 0.999), weight decay 1e-3 added to the
//! gradient). Plain Rust: its state is a few numbers that go into the checkpoint as JSON.

use serde::{Deserialize, Serialize};

/// Adam's moments and step count for one parameter vector.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Adam {
    pub learning_rate: f32,
    pub beta1: f32,
    pub beta2: f32,
    pub weight_decay: f32,
    pub epsilon: f32,
    pub m: Vec<f32>,
    pub v: Vec<f32>,
    pub t: u32,
}

impl Adam {
    /// DARTS's settings for `n` architecture weights.
    pub fn new(n: usize, learning_rate: f64, weight_decay: f64) -> Self {
        Adam {
            learning_rate: learning_rate as f32,
            beta1: 0.5,
            beta2: 0.999,
            weight_decay: weight_decay as f32,
            epsilon: 1e-8,
            m: vec![0.0; n],
            v: vec![0.0; n],
            t: 0,
        }
    }

    /// One step on `params` along `grad` (both of the length given to [`new`](Self::new)).
    pub fn step(&mut self, params: &mut [f32], grad: &[f32]) {
        self.t += 1;
        let (b1, b2) = (self.beta1, self.beta2);
        let c1 = 1.0 - b1.powi(self.t as i32);
        let c2 = 1.0 - b2.powi(self.t as i32);
        for (((p, &g), m), v) in params
            .iter_mut()
            .zip(grad)
            .zip(&mut self.m)
            .zip(&mut self.v)
        {
            let g = g + self.weight_decay * *p;
            *m = b1 * *m + (1.0 - b1) * g;
            *v = b2 * *v + (1.0 - b2) * g * g;
            *p -= self.learning_rate * (*m / c1) / ((*v / c2).sqrt() + self.epsilon);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_step_moves_each_weight_by_the_learning_rate_against_its_gradient() {
        let mut adam = Adam::new(3, 0.1, 0.0);
        let mut p = [1.0f32, -2.0, 0.5];
        adam.step(&mut p, &[0.3, -4.0, 0.0]);
        // Bias-corrected, the first step is lr * g / |g| (and nothing where g = 0).
        assert!(
            (p[0] - 0.9).abs() < 1e-6 && (p[1] + 1.9).abs() < 1e-6,
            "{p:?}"
        );
        assert_eq!(p[2], 0.5);
    }
}
