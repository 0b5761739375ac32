"""The folded-frame non-local block against a direct 3D implementation."""

import pytest
import torch
import torch.nn.functional as F

from videoshift.models.nonlocal_block import NonLocal


def reference_3d(block: NonLocal, x: torch.Tensor, frames: int) -> torch.Tensor:
    """Non-local block as published (Conv3d 1x1x1, MaxPool3d (1,2,2), BN3d) on the unfolded clip."""
    bt, c, h, w = x.shape
    clip = x.view(bt // frames, frames, c, h, w).transpose(1, 2)  # (B, C, T, H, W)

    def conv(layer, inp):
        return F.conv3d(inp, layer.weight[:, :, None], layer.bias)

    theta = conv(block.theta, clip)
    phi = F.max_pool3d(conv(block.phi, clip), (1, 2, 2))
    g = F.max_pool3d(conv(block.g, clip), (1, 2, 2))
    pairwise = torch.einsum("bci,bcj->bij", theta.flatten(2), phi.flatten(2))
    pairwise = pairwise.softmax(-1) if block.mode == "embedded_gaussian" else pairwise / pairwise.shape[-1]
    y = torch.einsum("bij,bcj->bci", pairwise, g.flatten(2)).reshape(theta.shape)
    norm = block.out_norm
    z = F.batch_norm(
        F.conv3d(y, block.out_conv.weight[:, :, None]), norm.running_mean, norm.running_var, norm.weight, norm.bias
    )
    return (clip + z).transpose(1, 2).reshape(bt, c, h, w)


@pytest.mark.parametrize("mode", ["embedded_gaussian", "dot_product"])
def test_matches_the_3d_non_local_block(mode):
    torch.manual_seed(0)
    block = NonLocal(16, num_frames=3, mode=mode).eval()
    with torch.no_grad():  # a trained-looking block: the zero-initialised output norm would hide everything
        block.out_norm.weight.uniform_(0.5, 1.5)
        block.out_norm.bias.uniform_(-1, 1)
        block.out_norm.running_mean.uniform_(-0.1, 0.1)
        for conv in (block.theta, block.phi, block.g, block.out_conv):
            conv.weight.normal_(std=0.3)
    x = torch.randn(2 * 3, 16, 6, 4)
    out = block(x)
    assert torch.allclose(out, reference_3d(block, x, 3), atol=1e-5)
    assert (out - x).abs().max() > 0.1


def test_a_new_block_is_the_identity_and_modes_are_checked():
    block = NonLocal(8, num_frames=2)
    x = torch.randn(4, 8, 4, 4)
    assert torch.equal(block(x), x)
    with pytest.raises(ValueError, match="mode"):
        NonLocal(8, num_frames=2, mode="concatenation")
    with pytest.raises(ValueError, match="num_frames=3"):
        NonLocal(8, num_frames=3)(x)


@pytest.mark.parametrize("name", ["tsm_r50_nl", "stsm_r50_nl"])
def test_non_local_blocks_run_right_after_their_bottlenecks(name):
    """ResNet-50: after blocks 0, 2 of layer2 and 0, 2, 4 of layer3 (MMAction2 ``non_local=((0,0,0), (1,0,1,0),
    (1,0,1,0,1,0), (0,0,0))``), each on its block's output and before the next block starts."""
    from videoshift.models import create_model

    model = create_model(name, num_classes=3, num_frames=2, dropout=0.0).eval()
    events, outputs = [], {}
    for layer in ("layer2", "layer3"):
        for i, block in enumerate(getattr(model.backbone, layer)):
            tag = f"{layer}.{i}"
            block.register_forward_pre_hook(lambda _m, _a, tag=tag: events.append(tag))
            # prepend: sees the block's own output, before the hook that runs the non-local block on it
            block.register_forward_hook(lambda _m, _a, out, tag=tag: outputs.__setitem__(tag, out), prepend=True)
    for key, block in model.non_local.items():
        block.register_forward_pre_hook(lambda _m, args, key=key: events.append((key, args[0])))
    with torch.no_grad():
        model(torch.randn(1, 3, 2, 32, 32))
    order = [e if isinstance(e, str) else e[0] for e in events]
    assert order == [
        "layer2.0", "layer2_0", "layer2.1", "layer2.2", "layer2_2", "layer2.3",
        "layer3.0", "layer3_0", "layer3.1", "layer3.2", "layer3_2", "layer3.3", "layer3.4", "layer3_4", "layer3.5",
    ]  # fmt: skip
    for key, seen in (e for e in events if not isinstance(e, str)):
        assert seen is outputs[key.replace("_", ".")], key  # the non-local block reads its bottleneck's output
