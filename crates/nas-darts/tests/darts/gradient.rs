//! The architecture gradient DARTS steps on, against central finite differences of the
//! same loss, in double precision on a tiny NB201 supernet (weights, images and the loss
//! in f64; alpha and its steps exact in f32, whose data makes the tensor).

use burn::module::{Module, ModuleMapper, Param};
use burn::nn::loss::CrossEntropyLossConfig;
use burn::tensor::activation::softmax;
use burn::tensor::{Device, FloatDType, Tensor, TensorData};
use nas_core::Rng;
use nas_data::DataConfig;
use nas_nn::batch;
use nas_space::Nb201NetConfig;
use nas_space::nn::Nb201Supernet;

/// Every parameter in double precision.
struct ToF64;

impl ModuleMapper for ToF64 {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        param.map(|t| t.cast(FloatDType::F64))
    }
}

#[test]
fn the_alpha_gradient_matches_finite_differences() {
    let device = Device::flex().autodiff();
    let splits = DataConfig::default().load().unwrap();
    let net = Nb201NetConfig {
        channels: 2,
        cells_per_stage: 1,
        input: [1, 8, 8],
        classes: 10,
    };
    let supernet = Nb201Supernet::new(&net, &device, 11).map(&mut ToF64);
    let indices: Vec<usize> = (0..8).collect();
    let (x, y) = batch(&splits.train, &indices, &device);
    let x = x.cast(FloatDType::F64);
    let loss_fn = CrossEntropyLossConfig::new().init(&device);
    let mut rng = Rng::new(5);
    // Values and steps that f32 holds exactly: the tensor is made from f32 data.
    let alpha: Vec<f64> = (0..30).map(|_| rng.normal() as f32 as f64).collect();
    let tensor = |values: &[f64]| {
        Tensor::<2>::from_data(TensorData::new(values.to_vec(), [6, 5]), &device)
            .cast(FloatDType::F64)
    };
    let loss = |values: &[f64]| -> f64 {
        let mix = softmax(tensor(values), 1);
        loss_fn
            .forward(supernet.forward_mixed(x.clone(), &mix), y.clone())
            .into_scalar::<f64>()
    };
    let a = tensor(&alpha).require_grad();
    let l = loss_fn.forward(
        supernet.forward_mixed(x.clone(), &softmax(a.clone(), 1)),
        y.clone(),
    );
    let grads = l.backward();
    let exact: Vec<f64> = a.grad(&grads).unwrap().into_data().try_to_vec().unwrap();
    let largest = exact.iter().fold(0f64, |m, g| m.max(g.abs()));
    assert!(largest > 1e-4, "a gradient to compare: {exact:?}");
    // The ReLUs make the loss piecewise smooth: a step that crosses a kink is off (at
    // 2^-12, finite differences were 2% off here; at 2^-14 and below within 1e-8). So each
    // weight must agree at one of several small steps: a kink sits at one distance.
    for i in 0..alpha.len() {
        let numeric = |eps: f64| {
            let (mut up, mut down) = (alpha.clone(), alpha.clone());
            up[i] += eps;
            down[i] -= eps;
            (loss(&up) - loss(&down)) / (2.0 * eps)
        };
        let tries: Vec<f64> = [14, 16, 18, 20].map(|k| numeric(2f64.powi(-k))).to_vec();
        assert!(
            tries.iter().any(|n| (n - exact[i]).abs() <= 1e-5 * largest),
            "alpha[{i}]: finite differences {tries:?}, autodiff {}",
            exact[i]
        );
    }
}
