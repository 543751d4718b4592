//! The kernel operations (`nas_nn::kernels`) against burn's own on the same
//! weights, on flex and ndarray: convolution with both gradients for the geometries the
//! networks use, with and without the ReLU fused before it, batch norm with its three gradients and running statistics, and NB201's
//! average pooling with its gradient.

use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::pool::AvgPool2dConfig;
use burn::nn::{BatchNorm, BatchNormConfig, PaddingConfig2d};
use burn::tensor::activation::relu;
use burn::tensor::{Device, Gradients, Tensor, TensorData};
use nas_nn::device;
use nas_nn::kernels::{avg_pool, batch_norm, conv2d, relu_conv2d};

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

fn to_vec<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data().try_to_vec::<f32>().unwrap()
}

/// `forward` on a tracked copy of `x`, then the backward pass of a loss that weighs every
/// output differently, so no gradient is trivially uniform: the output, the input
/// gradient, and the gradients for the module's parameters.
fn forward_backward(
    x: &Tensor<4>,
    forward: impl FnOnce(Tensor<4>) -> Tensor<4>,
) -> (Vec<f32>, Vec<f32>, Gradients) {
    let x = x.clone().require_grad();
    let y = forward(x.clone());
    let weights = Tensor::<4>::from_data(
        TensorData::new(values(y.shape().num_elements(), 3), y.dims()),
        &y.device(),
    );
    let grads = (y.clone() * weights).sum().backward();
    (to_vec(y), to_vec(x.grad(&grads).unwrap()), grads)
}

/// An input of shape `dims` with values from `seed`.
fn input(dims: [usize; 4], seed: usize, d: &Device) -> Tensor<4> {
    Tensor::from_data(
        TensorData::new(values(dims.iter().product(), seed), dims),
        d,
    )
}

/// Output, input gradient and weight gradient of `conv` (through `forward`) on `x`.
fn run(
    conv: &Conv2d,
    x: &Tensor<4>,
    forward: impl Fn(&Conv2d, Tensor<4>) -> Tensor<4>,
) -> [Vec<f32>; 3] {
    let (out, dx, grads) = forward_backward(x, |x| forward(conv, x));
    [out, dx, to_vec(conv.weight.grad(&grads).unwrap())]
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
            let x = input([3, c_in, 9, 9], 1, &d);
            let case = format!("{backend} {c_in}->{c_out} k{k} s{stride} p{pad}");
            let burn = run(&conv, &x, |c, x| c.forward(x));
            let ours = run(&conv, &x, conv2d);
            let burn_relu = run(&conv, &x, |c, x| c.forward(relu(x)));
            let ours_relu = run(&conv, &x, relu_conv2d);
            for (case, ours, burn) in [
                (case.clone(), ours, burn),
                (case + " relu", ours_relu, burn_relu),
            ] {
                assert_close(&format!("{case} output"), &ours[0], &burn[0]);
                assert_close(&format!("{case} input gradient"), &ours[1], &burn[1]);
                assert_close(&format!("{case} weight gradient"), &ours[2], &burn[2]);
            }
        }
    }
}

#[test]
fn kernel_batch_norm_matches_burns_with_gradients_and_running_statistics() {
    for backend in ["flex", "ndarray"] {
        let d = device(backend).unwrap().autodiff();
        let run = |forward: &dyn Fn(&BatchNorm, Tensor<4>) -> Tensor<4>| {
            let bn = BatchNormConfig::new(3).init(&d);
            // Distinct gamma and beta, so their gradients and effects are not uniform.
            let bn = BatchNorm {
                gamma: bn.gamma.map(|_| {
                    Tensor::from_data(TensorData::new(vec![0.5f32, 1.5, -1.0], [3]), &d)
                        .require_grad()
                }),
                beta: bn.beta.map(|_| {
                    Tensor::from_data(TensorData::new(vec![0.1f32, -0.2, 0.3], [3]), &d)
                        .require_grad()
                }),
                ..bn
            };
            let (out, dx, grads) =
                forward_backward(&input([4, 3, 5, 5], 5, &d), |x| forward(&bn, x));
            [
                out,
                dx,
                to_vec(bn.gamma.grad(&grads).unwrap()),
                to_vec(bn.beta.grad(&grads).unwrap()),
                to_vec(bn.running_mean.value()),
                to_vec(bn.running_var.value()),
            ]
        };
        let burn = run(&|bn, x| bn.forward(x));
        let ours = run(&|bn, x| batch_norm(bn, x));
        let names = [
            "output",
            "input gradient",
            "gamma gradient",
            "beta gradient",
            "running mean",
            "running variance",
        ];
        for ((name, a), b) in names.iter().zip(&ours).zip(&burn) {
            assert_close(&format!("{backend} {name}"), a, b);
        }
    }
}

#[test]
fn kernel_average_pooling_matches_burns_with_its_gradient() {
    for backend in ["flex", "ndarray"] {
        let d = device(backend).unwrap().autodiff();
        let pool = AvgPool2dConfig::new([3, 3])
            .with_strides([1, 1])
            .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
            .with_count_include_pad(false)
            .init();
        let x = input([2, 3, 5, 7], 7, &d);
        let (burn_y, burn_dx, _) = forward_backward(&x, |x| pool.forward(x));
        let (y, dx, _) = forward_backward(&x, |x| avg_pool(&pool, x));
        assert_close(&format!("{backend} pooled"), &y, &burn_y);
        assert_close(&format!("{backend} input gradient"), &dx, &burn_dx);
    }
}
