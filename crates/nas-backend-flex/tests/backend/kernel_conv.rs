//! The kernel convolution (`nas_space::nn::kernel_conv::conv2d`) against burn's own
//! convolution on the same weights: outputs and both gradients, on flex and ndarray,
//! for the geometries the networks use.

use burn::nn::PaddingConfig2d;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::tensor::{Tensor, TensorData};
use nas_space::nn::device;
use nas_space::nn::kernel_conv::conv2d;

fn values(n: usize, seed: usize) -> Vec<f32> {
    (0..n)
        .map(|i| (((i + seed) * 37 % 101) as f32 / 50.0) - 1.0)
        .collect()
}

fn assert_close(what: &str, a: &[f32], b: &[f32]) {
    assert_eq!(a.len(), b.len(), "{what}: length");
    for (x, y) in a.iter().zip(b) {
        assert!(
            (x - y).abs() <= 1e-4 * (1.0 + x.abs()),
            "{what}: {x} vs {y}"
        );
    }
}

/// Output, input gradient and weight gradient of `conv` (through `forward`) on `x`.
fn run(
    conv: &Conv2d,
    x: &Tensor<4>,
    forward: impl Fn(&Conv2d, Tensor<4>) -> Tensor<4>,
) -> [Vec<f32>; 3] {
    let x = x.clone().require_grad();
    let y = forward(conv, x.clone());
    let out = y.clone().into_data().try_to_vec::<f32>().unwrap();
    // A loss that weighs every output differently, so no gradient is trivially uniform.
    let weights = Tensor::<4>::from_data(
        TensorData::new(values(y.shape().num_elements(), 3), y.dims()),
        &y.device(),
    );
    let grads = (y * weights).sum().backward();
    let dx = x
        .grad(&grads)
        .unwrap()
        .into_data()
        .try_to_vec::<f32>()
        .unwrap();
    let dw = conv.weight.grad(&grads).unwrap();
    [out, dx, dw.into_data().try_to_vec::<f32>().unwrap()]
}

#[test]
fn kernel_convolution_matches_burns_with_gradients() {
    for backend in ["flex", "ndarray"] {
        let d = device(backend).unwrap().autodiff();
        // (in, out, kernel, stride, padding, bias): 3x3, 1x1, the stride-2 reduction, LeNet.
        for (c_in, c_out, k, stride, pad, bias) in [
            (3, 4, 3, 1, 1, false),
            (4, 4, 1, 1, 0, false),
            (4, 6, 3, 2, 1, false),
            (2, 3, 5, 1, 2, true),
        ] {
            let conv = Conv2dConfig::new([c_in, c_out], [k, k])
                .with_stride([stride, stride])
                .with_padding(PaddingConfig2d::Explicit(pad, pad, pad, pad))
                .with_bias(bias)
                .init(&d);
            let x = Tensor::<4>::from_data(
                TensorData::new(values(3 * c_in * 81, 1), [3, c_in, 9, 9]),
                &d,
            );
            let burn = run(&conv, &x, |c, x| c.forward(x));
            let ours = run(&conv, &x, conv2d);
            let case = format!("{backend} {c_in}->{c_out} k{k} s{stride} p{pad}");
            assert_close(&format!("{case} output"), &ours[0], &burn[0]);
            assert_close(&format!("{case} input gradient"), &ours[1], &burn[1]);
            assert_close(&format!("{case} weight gradient"), &ours[2], &burn[2]);
        }
    }
}
