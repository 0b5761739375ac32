import torch
from torch import nn

from videoshift.models.complexity import count_macs, count_params


def test_linear_and_conv_counts_by_hand():
    model = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1, bias=True), nn.Flatten(), nn.Linear(8 * 5 * 5, 10))
    # conv: 8 outputs/channel-position x 25 positions x (3*3*3) MACs; linear: 200*10 MACs
    assert count_macs(model, torch.zeros(2, 3, 5, 5)) == 2 * (8 * 25 * 27 + 200 * 10)
    assert count_params(model) == (8 * 27 + 8) + (200 * 10 + 10)


def test_shared_parameters_counted_once():
    layer = nn.Linear(4, 4)
    assert count_params(nn.Sequential(layer, layer)) == 20


def _modes(model: nn.Module) -> dict[str, bool]:
    return {name: module.training for name, module in model.named_modules()}


def test_counting_leaves_every_module_in_its_mode():
    """Counting runs in eval mode and then puts back each module's own mode: train, eval or a mix (frozen BN)."""
    model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.Dropout(0.5), nn.Flatten(), nn.Linear(36, 2))
    x = torch.zeros(1, 3, 5, 5)
    for setting in ("train", "eval", "mixed"):
        model.train(setting != "eval")
        if setting == "mixed":
            model[1].eval()  # a frozen BatchNorm in a training model (TSM's partial BN)
        before = _modes(model)
        assert count_macs(model, x) > 0
        assert _modes(model) == before, setting
    assert _modes(model) == {"": True, "0": True, "1": False, "2": True, "3": True, "4": True}  # by hand


class _Attention(nn.Module):
    """Self-attention over (B, N, C) tokens, fused (``F.scaled_dot_product_attention``) or written as matmuls."""

    def __init__(self, dim: int, heads: int, fused: bool) -> None:
        super().__init__()
        self.heads, self.fused = heads, fused
        self.qkv, self.proj = nn.Linear(dim, 3 * dim), nn.Linear(dim, dim)

    def forward(self, x):
        b, n, c = x.shape
        q, k, v = self.qkv(x).reshape(b, n, 3, self.heads, c // self.heads).permute(2, 0, 3, 1, 4)
        if self.fused:
            out = torch.nn.functional.scaled_dot_product_attention(q, k, v)
        else:
            out = ((q @ k.transpose(-2, -1)) * (c // self.heads) ** -0.5).softmax(-1) @ v
        return self.proj(out.transpose(1, 2).reshape(b, n, c))


def test_attention_counts_the_same_fused_or_explicit_on_every_backend():
    from torch.nn.attention import SDPBackend, sdpa_kernel

    b, n, c, heads = 2, 17, 24, 3
    x = torch.randn(b, n, c)
    # qkv and proj: (3 + 1)·N·C² per clip; QKᵀ and AV: 2·heads·N²·(C/heads) = 2·N²·C
    by_hand = b * (4 * n * c * c + 2 * n * n * c)
    assert count_macs(_Attention(c, heads, fused=False), x) == by_hand
    for backend in (SDPBackend.MATH, SDPBackend.FLASH_ATTENTION, SDPBackend.EFFICIENT_ATTENTION, None):
        if backend is None:
            assert count_macs(_Attention(c, heads, fused=True), x) == by_hand
            continue
        with sdpa_kernel([backend, SDPBackend.MATH]):
            assert count_macs(_Attention(c, heads, fused=True), x) == by_hand, backend


def test_explicit_attention_equals_the_fused_kernel():
    from videoshift.models.complexity import explicit_attention

    sdpa = torch.nn.functional.scaled_dot_product_attention
    q, k, v = torch.randn(2, 4, 5, 8), torch.randn(2, 4, 7, 8), torch.randn(2, 4, 7, 6)
    mask = torch.rand(5, 7) > 0.3
    mask[:, 0] = True
    bias = torch.randn(5, 7)
    torch.testing.assert_close(explicit_attention(q, k, v), sdpa(q, k, v))
    torch.testing.assert_close(explicit_attention(q, k, v, attn_mask=mask), sdpa(q, k, v, attn_mask=mask))
    torch.testing.assert_close(explicit_attention(q, k, v, attn_mask=bias, scale=0.3), sdpa(q, k, v, bias, scale=0.3))
    q7 = torch.randn(2, 4, 7, 8)
    torch.testing.assert_close(explicit_attention(q7, k, v, is_causal=True), sdpa(q7, k, v, is_causal=True))
    kv2 = torch.randn(2, 2, 7, 8)
    torch.testing.assert_close(explicit_attention(q, kv2, kv2, enable_gqa=True), sdpa(q, kv2, kv2, enable_gqa=True))
