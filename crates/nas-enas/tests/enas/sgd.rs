//! The shared weights' SGD (`nas_nn::sgd::SharedSgd`) against burn's own, on the NB201
//! supernet: the same bits, and an exact resume from its bytes.

use burn::module::{Module, ModuleVisitor, Param};
use burn::nn::loss::CrossEntropyLossConfig;
use burn::optim::GradientsParams;
use burn::optim::SgdConfig;
use burn::optim::decay::WeightDecayConfig;
use burn::optim::momentum::MomentumConfig;
use burn::tensor::Device;
use burn::tensor::Tensor;
use nas_data::DataConfig;
use nas_nn::batch;
use nas_nn::sgd::SharedSgd;
use nas_space::Nb201NetConfig;
use nas_space::nn::Nb201Supernet;
use std::collections::BTreeMap;

/// Every float parameter's values by path.
#[derive(Default)]
struct Values {
    by_path: BTreeMap<String, Vec<f32>>,
    path: Vec<String>,
}

impl ModuleVisitor for Values {
    fn enter_module(&mut self, name: &str, _container_type: &str) {
        self.path.push(name.to_string());
    }
    fn exit_module(&mut self, _name: &str, _container_type: &str) {
        self.path.pop();
    }
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let values = param.val().to_data().try_to_vec::<f32>().unwrap();
        self.by_path.insert(self.path.join("."), values);
    }
}

fn values(m: &Nb201Supernet) -> BTreeMap<String, Vec<u32>> {
    let mut v = Values::default();
    m.visit(&mut v);
    v.by_path
        .into_iter()
        .map(|(k, x)| (k, x.into_iter().map(f32::to_bits).collect()))
        .collect()
}

/// The same supernet stepped by burn's SGD and by ours, with our state written to bytes
/// and read back into a new optimizer halfway, stays the same to the bit; a velocity
/// that fits no parameter is refused by name.
#[test]
fn shared_sgd_steps_as_burns_sgd_and_resumes_from_its_bytes() {
    let splits = DataConfig::default().load().unwrap();
    let t = &splits.train;
    let net = Nb201NetConfig {
        channels: 4,
        cells_per_stage: 1,
        input: [t.channels, t.height, t.width],
        classes: t.classes,
    };
    let device = Device::flex().autodiff();
    let mut theirs = Nb201Supernet::new(&net, &device, 5);
    let mut ours = Nb201Supernet::new(&net, &device, 5);
    assert_eq!(values(&theirs), values(&ours));
    let mut burn_sgd = SgdConfig::new()
        .with_momentum(Some(MomentumConfig {
            momentum: 0.9,
            dampening: 0.0,
            nesterov: false,
        }))
        .with_weight_decay(Some(WeightDecayConfig { penalty: 5e-4 }))
        .init();
    let mut sgd = SharedSgd::new(0.9, 5e-4);
    let loss_fn = CrossEntropyLossConfig::new().init(&device);
    // Different cells, so some parameters have no velocity at the restore.
    let cells = [
        [3, 3, 0, 3, 0, 0],
        [2, 1, 4, 3, 0, 2],
        [3, 3, 3, 3, 3, 3],
        [1, 2, 2, 4, 4, 1],
    ];
    for (step, ops) in cells.iter().enumerate() {
        let indices: Vec<usize> = (step * 16..step * 16 + 16).collect();
        let (x, y) = batch(t, &indices, &device);
        let lr = 0.05 / (step + 1) as f64;
        let loss = loss_fn.forward(theirs.forward(x.clone(), ops), y.clone());
        let grads = GradientsParams::from_grads(loss.backward(), &theirs);
        theirs = burn_sgd.step(lr, theirs, grads);
        let loss = loss_fn.forward(ours.forward(x, ops), y);
        let grads = GradientsParams::from_grads(loss.backward(), &ours);
        ours = sgd.step(lr, ours, grads);
        if step == 1 {
            let mut bytes = Vec::new();
            sgd.write(&mut bytes).unwrap();
            sgd = SharedSgd::new(0.9, 5e-4);
            sgd.read(&bytes, &ours).unwrap();
            assert!(sgd.is_untouched_restore());
        }
    }
    assert_eq!(values(&theirs), values(&ours));

    // A velocity for a parameter of another size.
    let mut bytes = Vec::new();
    sgd.write(&mut bytes).unwrap();
    let small = Nb201Supernet::new(&Nb201NetConfig { channels: 2, ..net }, &device, 5);
    let err = SharedSgd::new(0.9, 5e-4).read(&bytes, &small).unwrap_err();
    assert!(err.contains("values, the parameter"), "{err}");
    let err = SharedSgd::new(0.9, 5e-4)
        .read(&bytes[..bytes.len() - 3], &ours)
        .unwrap_err();
    assert!(err.contains("cut short"), "{err}");
}
