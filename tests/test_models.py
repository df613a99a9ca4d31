"""The models: parameter counts from papers.md, shapes, graph structure, constraints, and that
each one can fit a tiny batch."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from physioemo import models
from physioemo.models._layers import count_parameters
from physioemo.models.hierarchy import DREAMER_CHANNELS, dreamer_hierarchy, hierarchy_from_montage
from physioemo.models.histn import chebyshev_basis

DEAP_32 = (
    "Fp1 AF3 F3 F7 FC5 FC1 C3 T7 CP5 CP1 P3 P7 PO3 O1 Oz Pz "
    "Fp2 AF4 Fz F4 F8 FC6 FC2 Cz C4 T8 CP6 CP2 P4 P8 PO4 O2"
).split()
SEED_62 = (
    "FP1 FPZ FP2 AF3 AF4 F7 F5 F3 F1 FZ F2 F4 F6 F8 FT7 FC5 FC3 FC1 FCZ FC2 FC4 FC6 FT8 "
    "T7 C5 C3 C1 CZ C2 C4 C6 T8 TP7 CP5 CP3 CP1 CPZ CP2 CP4 CP6 TP8 P7 P5 P3 P1 PZ P2 P4 "
    "P6 P8 PO7 PO5 PO3 POZ PO4 PO6 PO8 CB1 O1 OZ O2 CB2"
).split()
CYTON_16 = "Fp1 Fp2 C3 C4 P7 P8 O1 O2 F7 F8 F3 F4 T7 T8 P3 P4".split()
BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def test_importing_models_does_not_import_torch():
    code = "import sys, physioemo, physioemo.models; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_histn_parameter_count_matches_the_paper():
    net = models.create("histn", n_chans=14, n_outputs=5, n_times=128, sfreq=128)
    assert count_parameters(net) == {"trainable": 1181, "total": 1265}


@pytest.mark.parametrize(
    ("n_chans", "n_outputs", "expected"),
    [(14, 2, 662_530), (14, 5, 662_917), (32, 2, 664_834), (32, 9, 665_737), (62, 3, 668_803)],
)
def test_rbtransformer_parameter_counts(n_chans, n_outputs, expected):
    net = models.create("rbtransformer", n_chans=n_chans, n_outputs=n_outputs)
    assert (
        count_parameters(net)["trainable"] == expected == 660_480 + 128 * n_chans + 129 * n_outputs
    )


def test_chebyshev_basis_matches_numpy_for_the_left_frontal_region():
    hierarchy = dreamer_hierarchy()
    basis = chebyshev_basis(hierarchy.region_edge_index("left-frontal"), 4, 2).numpy()
    # AF3-F3, F7-F3, F7-FC5, F3-FC5 over (AF3, F7, F3, FC5)
    adjacency = np.zeros((4, 4))
    for a, b in [(0, 2), (1, 2), (1, 3), (2, 3)]:
        adjacency[a, b] = adjacency[b, a] = 1
    laplacian = np.diag(adjacency.sum(1)) - adjacency
    lambda_max = np.linalg.eigvalsh(laplacian).max()
    assert lambda_max == pytest.approx(4.0)
    scaled = 2 * laplacian / lambda_max - np.eye(4)
    np.testing.assert_allclose(basis[0], np.eye(4), atol=1e-6)
    np.testing.assert_allclose(basis[1], scaled, atol=1e-6)
    np.testing.assert_allclose(basis[2], 2 * scaled @ scaled - np.eye(4), atol=1e-6)


def test_a_single_electrode_region_has_the_minus_identity_operator():
    basis = chebyshev_basis(np.zeros((2, 0), dtype=int), 1, 2).numpy()
    np.testing.assert_allclose(basis[:, 0, 0], [1.0, -1.0, 1.0])


def test_dreamer_hierarchy_is_the_papers():
    hierarchy = dreamer_hierarchy()
    assert hierarchy.sizes == [4, 3, 3, 4]
    assert list(hierarchy.ch_names) == DREAMER_CHANNELS
    assert sorted(map(tuple, hierarchy.ring_edge_index().T.tolist())) == sorted(
        [(0, 1), (1, 2), (2, 3), (3, 0), (1, 0), (2, 1), (3, 2), (0, 3)]
    )
    assert hierarchy.region_edge_index("left-posterior").shape == (2, 4)  # T7-P7, P7-O1


@pytest.mark.parametrize("ch_names", [DEAP_32, SEED_62, CYTON_16], ids=["deap", "seed", "cyton"])
def test_histn_builds_for_other_montages(ch_names):
    net = models.create("histn", n_chans=len(ch_names), n_outputs=3, sfreq=200, ch_names=ch_names)
    hierarchy = net.hierarchy
    assert sorted(hierarchy.ch_names) == sorted(ch_names)
    assert sum(hierarchy.sizes) == len(ch_names)
    assert len(hierarchy.regions) >= 4
    net.eval()
    assert net(torch.randn(2, len(ch_names), 200)).shape == (2, 3)


def test_hierarchy_rejects_a_region_map_missing_a_channel():
    with pytest.raises(ValueError, match="missing"):
        hierarchy_from_montage(CYTON_16, regions={"all": CYTON_16[:-1]})


SHAPES = {
    "histn": (14, 128),
    "eegnet": (14, 128),
    "rbtransformer": (14, 4),
    "dgcnn": (14, 4),
}


@pytest.mark.parametrize("name", list(SHAPES))
def test_output_shapes_and_bad_input(name):
    net = models.create(name, n_chans=14, n_outputs=3, n_times=128, sfreq=128).eval()
    assert net(torch.randn(5, *SHAPES[name])).shape == (5, 3)
    with pytest.raises(ValueError, match="expects"):
        net(torch.randn(5, 13, SHAPES[name][1]))


def test_histn_electrode_kernels_equal_filter_bank_then_mix():
    torch.manual_seed(0)
    net = models.create("histn", n_chans=14, n_outputs=5, n_times=128, sfreq=128.0)
    x = torch.randn(3, 14, 128)[:, net.order, :]
    padded = torch.nn.functional.pad(x, net.padding).reshape(3 * 14, 1, -1)
    bank = torch.nn.functional.conv1d(padded, net.filter_bank.weight).view(3, 14, 8, 128)
    two_steps = torch.einsum("bcft,cf->bct", bank, net.spatial)  # the paper's order of operations
    fused = torch.nn.functional.conv1d(
        torch.nn.functional.pad(x, net.padding), net.electrode_kernels(), groups=14
    )
    torch.testing.assert_close(fused, two_steps, rtol=1e-5, atol=1e-5)


def test_histn_node_level_equals_region_by_region():
    torch.manual_seed(1)
    names = "Fz C3 Cz C4 Pz PO7 Oz PO8 F5 F7 F3 F1 F2 F4 F6 F8".split()
    net = models.create("histn", n_chans=16, n_outputs=2, n_times=250, sfreq=250.0, ch_names=names)
    node = net.node
    x = torch.randn(2, 16, 50)
    expected = torch.cat(
        [
            pointwise(depthwise(graph.operator().T @ part))
            for part, graph, depthwise, pointwise in zip(
                x.split(node.sizes, dim=1), node.graphs, node.depthwise, node.pointwise, strict=True
            )
        ],
        dim=1,
    )
    torch.testing.assert_close(node(x), expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize(
    "channels, sfreq, n_times",
    [(DREAMER_CHANNELS, 128.0, 128), (CYTON_16, 250.0, 600), (DREAMER_CHANNELS[::-1], 128, 97)],
)
def test_histn_equals_the_layer_by_layer_reference(channels, sfreq, n_times):
    """The grouped arithmetic (banded filter bank, one node-level convolution, regions fused
    without a loop) against HiSTN computed as before issue 25 (benchmarks/histn_reference.py):
    same outputs in training mode (same dropout masks) and evaluation mode, same gradients."""
    sys.path.insert(0, str(BENCHMARKS))
    from histn_reference import forward

    torch.manual_seed(4)
    net = models.create(
        "histn", n_chans=len(channels), n_outputs=5, sfreq=sfreq, ch_names=list(channels)
    )
    x = torch.randn(6, len(channels), n_times)
    state = {k: v.clone() for k, v in net.state_dict().items()}
    found = {}
    for name, model in (("package", net), ("reference", lambda x: forward(net, x))):
        net.load_state_dict(state)
        torch.manual_seed(9)
        logits = model(x.clone())
        found[name] = (logits, torch.autograd.grad(logits.square().sum(), list(net.parameters())))
    torch.testing.assert_close(found["package"][0], found["reference"][0], rtol=1e-5, atol=1e-5)
    for (name, _), gradient, expected in zip(
        net.named_parameters(), *(found[k][1] for k in found), strict=True
    ):
        scale = expected.abs().max().clamp(min=1e-6)
        assert (gradient - expected).abs().max() <= 1e-4 * scale, name
    net.eval()
    torch.testing.assert_close(net(x), forward(net, x), rtol=1e-5, atol=1e-5)
    with torch.no_grad():  # the path predictions take: a grouped convolution, no band matrices
        torch.testing.assert_close(net(x), forward(net, x), rtol=1e-5, atol=1e-5)


def test_histn_banded_filter_bank_equals_a_grouped_convolution_for_long_windows():
    from physioemo.models.histn import BAND_BLOCK, banded_correlation

    torch.manual_seed(2)
    kernels, x = torch.randn(3, 64), torch.randn(2, 3, 2 * BAND_BLOCK + 37)
    padding = (31, 32)
    expected = torch.nn.functional.conv1d(
        torch.nn.functional.pad(x, padding), kernels[:, None], groups=3
    )
    torch.testing.assert_close(
        banded_correlation(x, kernels, padding), expected, rtol=1e-4, atol=1e-4
    )


def test_rbtransformer_attention_maps_are_row_stochastic():
    net = models.create("rbtransformer", n_chans=14, n_outputs=2).eval()
    logits, maps = net(torch.randn(3, 14, 4), return_attention=True)
    assert logits.shape == (3, 2)
    assert maps.shape == (3, 4, 6, 14, 14)  # batch, blocks, heads, electrodes, electrodes
    np.testing.assert_allclose(maps.sum(-1).detach().numpy(), 1.0, atol=1e-5)


def test_max_norm_constraints_hold_after_apply():
    net = models.create("histn", n_chans=14, n_outputs=5)
    with torch.no_grad():
        for p in net.parameters():
            p.mul_(50)
    net.apply_constraints()
    assert net.spatial.abs().max() <= 1 + 1e-6
    assert torch.linalg.vector_norm(net.temporal.weight, dim=(1, 2)).max() <= 1 + 1e-6
    assert all(p.weight.abs().max() <= 1 + 1e-6 for p in net.node.pointwise)
    assert net.filter_bank.weight.abs().max() > 1  # unconstrained layers are left alone


def test_histn_batchnorm_uses_keras_settings():
    net = models.create("histn", n_chans=14, n_outputs=5)
    assert (net.bn_spatial.momentum, net.bn_spatial.eps) == (0.01, 1e-3)


@pytest.mark.parametrize("name", list(SHAPES))
def test_each_model_overfits_a_tiny_batch(name):
    torch.manual_seed(0)
    net = models.create(name, n_chans=14, n_outputs=3, n_times=128, sfreq=128, dropout=0.0)
    x, y = torch.randn(12, *SHAPES[name]), torch.arange(12) % 3
    optimiser = torch.optim.Adam(net.parameters(), lr=1e-2 if name in ("histn", "eegnet") else 3e-3)
    net.train()
    for _ in range(150):
        loss = torch.nn.functional.cross_entropy(net(x), y)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        if hasattr(net, "apply_constraints"):
            net.apply_constraints()
    assert loss.item() < 0.05


def test_registry_lists_every_model_with_inputs():
    assert set(models.available()) >= {"histn", "rbtransformer", "pinn", "dgcnn", "eegnet", "rf"}
    assert models.describe("histn")["parameters"]["trainable"] == 1181
    with pytest.raises(ValueError, match="unknown model"):
        models.create("nope")


def test_random_forest_baseline_fits():
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(60, 14, 4)), np.repeat([0, 1], 30)
    X[y == 1] += 1.0
    model = models.create("rf", seed=0).fit(X[::2], y[::2])
    assert (model.predict(X[1::2]) == y[1::2]).mean() > 0.9


# ----------------------------------------------------------------------------- signature
def test_signature_is_inferred_and_checked():
    from physioemo.models.eegnet import EEGNet

    net = EEGNet(ch_names=DREAMER_CHANNELS, n_outputs=2, sfreq=128.0, window_seconds=1.0)
    assert (net.n_chans, net.n_times, net.window_seconds) == (14, 128, 1.0)
    assert EEGNet(n_chans=3, n_outputs=2, n_times=256, window_seconds=2.0).sfreq == 128.0
    for arguments, message in [
        ({"n_chans": 13, "ch_names": DREAMER_CHANNELS}, "n_chans=13 but ch_names has 14"),
        ({"n_chans": 14, "n_times": 100, "sfreq": 128.0, "window_seconds": 1.0}, "gives 128"),
        ({"n_chans": 14, "n_times": 128, "sfreq": -1.0}, "sfreq must be a positive number"),
        ({"n_times": 128}, "needs n_chans"),
    ]:
        with pytest.raises(ValueError, match=message):
            EEGNet(n_outputs=2, **arguments)
    with pytest.raises(ValueError, match="EEGNet needs n_outputs"):
        EEGNet(n_chans=14, n_times=128)


def _direct(name):
    """Each model built by its class, not through the registry, with a non-default option."""
    from physioemo.models.dgcnn import DGCNN
    from physioemo.models.eegnet import EEGNet
    from physioemo.models.histn import HiSTN
    from physioemo.models.pinn import MultiTaskPINN
    from physioemo.models.rbtransformer import RBTransformer

    return {
        "histn": lambda: HiSTN(ch_names=CYTON_16, n_outputs=3, sfreq=250.0, dropout=0.2),
        "eegnet": lambda: EEGNet(n_chans=14, n_outputs=2, sfreq=128.0, window_seconds=1.0, f1=4),
        "rbtransformer": lambda: RBTransformer(n_chans=14, n_outputs=2, depth=2),
        "dgcnn": lambda: DGCNN(n_chans=14, n_outputs=2, hidden=16),
        "pinn": lambda: MultiTaskPINN(n_chans=12, n_outputs=3, width=32),
    }[name]()


INPUTS_OF = {
    "histn": (16, 250),
    "eegnet": (14, 128),
    "rbtransformer": (14, 4),
    "dgcnn": (14, 4),
    "pinn": (12,),
}


@pytest.mark.parametrize("name", list(INPUTS_OF))
def test_any_model_however_built_round_trips_through_a_checkpoint(name, tmp_path):
    from physioemo.training import load_checkpoint, save_checkpoint

    torch.manual_seed(0)
    net = _direct(name).eval()
    config = net.get_config()
    rebuilt = type(net).from_config(config)
    assert rebuilt.get_config() == config
    assert count_parameters(rebuilt) == count_parameters(net)
    meta = {
        "ch_names": config["ch_names"] or [f"c{i}" for i in range(config["n_chans"])],
        "features": {"kind": models.MODELS[name].inputs},  # raw, de, peripheral: recipe names
        "labels": {"classes": [f"class {i}" for i in range(config["n_outputs"])]},
    }
    path = save_checkpoint(tmp_path / f"{name}.pt", net, meta)
    loaded, saved = load_checkpoint(path)
    assert saved["model"] == name and saved["args"] == config
    x = torch.randn(3, *INPUTS_OF[name])
    args = (x, torch.rand(3)) if name == "pinn" else (x,)
    with torch.no_grad():
        expected, found = net(*args), loaded(*args)
    torch.testing.assert_close(found, expected)  # the PINN's (eda, logits) tuple too


def test_estimator_factory_picks_the_preset_and_the_inputs():
    from physioemo.training import PINNClassifier, TorchClassifier, make_estimator

    info = {"sfreq": 128.0, "ch_names": DREAMER_CHANNELS}
    histn = make_estimator("histn", "full", n_classes=5, info=info)
    assert isinstance(histn, TorchClassifier) and histn.preset == "histn"
    assert histn.model_options == {"sfreq": 128.0, "ch_names": DREAMER_CHANNELS}
    assert make_estimator("dgcnn", "quick", info=info).model_options == {}
    assert make_estimator("histn", preset="histn-si").preset == "histn-si"
    pinn = make_estimator("pinn", "full", n_classes=3)
    assert isinstance(pinn, PINNClassifier) and pinn.preset == "pinn" and pinn.seed is None
    assert make_estimator("logreg", seed=3).fit([[0.0], [1.0]], [0, 1]).predict([[1.0]]) == 1
    with pytest.raises(ValueError, match="profile"):
        make_estimator("histn", "slow")
