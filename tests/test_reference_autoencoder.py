"""Do the autoencoder references compute the lecture's sparsity penalties, corruptions and models exactly, make the
classic mistakes detectable, and train on real digits?"""
from __future__ import annotations

import math
from contextlib import contextmanager
from functools import partial

import pytest
import torch
from torch.distributions import Bernoulli, kl_divergence
from torch.nn import functional as F

from grader.data import load_mnist
from reference import autoencoder as ae

TOL = {"rtol": 1e-10, "atol": 1e-12}


@contextmanager
def one_thread():
    """Training runs multiply tiny matrices: on a busy 2-core machine, threads cost more than they save."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def sigmoid_codes(gen, device, m=50, s=8):
    """m sigmoid codes of s units, spread over (0, 1), in float64."""
    return torch.sigmoid(2 * torch.randn(m, s, generator=gen, dtype=torch.float64)).to(device)


def copy_of(gen):
    """A second generator in the same state: the same draws again."""
    return torch.Generator().set_state(gen.get_state())


def test_kl_bernoulli_is_the_slide_formula_and_torch_distributions(gen, device):
    """Is KL(ρ‖ρ̂) = ρ log(ρ/ρ̂) + (1−ρ) log((1−ρ)/(1−ρ̂)), the KL torch.distributions gives between Bernoullis?"""
    rho_hat = torch.rand(20, generator=gen, dtype=torch.float64).to(device) * 0.98 + 0.01
    got = ae.kl_bernoulli(0.05, rho_hat)
    slide = torch.tensor([0.05 * math.log(0.05 / r) + 0.95 * math.log(0.95 / (1 - r)) for r in rho_hat.tolist()],
                         dtype=torch.float64, device=device)
    torch.testing.assert_close(got, slide, **TOL)
    expected = kl_divergence(Bernoulli(probs=torch.full_like(rho_hat, 0.05)), Bernoulli(probs=rho_hat))
    torch.testing.assert_close(got, expected, rtol=1e-10, atol=1e-10)


def test_kl_penalty_is_beta_times_the_sum_over_units_of_batch_averages(gen, device):
    """Is the penalty β Σ_j KL(ρ‖ρ̂_j) with ρ̂_j = (1/m) Σ_i a_j(x_i), computed element by element?"""
    a = sigmoid_codes(gen, device)
    rho, beta = 0.05, 3.0
    rho_hats = [sum(a[i, j].item() for i in range(a.shape[0])) / a.shape[0] for j in range(a.shape[1])]
    direct = beta * sum(rho * math.log(rho / r) + (1 - rho) * math.log((1 - rho) / (1 - r)) for r in rho_hats)
    got = ae.kl_sparsity_penalty(a, rho, beta)
    assert got.shape == () and got.dtype == torch.float64 and got.device == device
    assert math.isclose(got.item(), direct, rel_tol=1e-10)


def test_kl_penalty_gradient_matches_autograd_and_the_closed_form(gen, device):
    """Is ∂penalty/∂a_ij = β(−ρ/ρ̂_j + (1−ρ)/(1−ρ̂_j))/m, what autograd finds?"""
    a = sigmoid_codes(gen, device).requires_grad_(True)
    rho, beta = 0.05, 0.7
    (grad,) = torch.autograd.grad(ae.kl_sparsity_penalty(a, rho, beta), a)
    rho_hat = a.detach().mean(0)
    closed_form = beta * (-rho / rho_hat + (1 - rho) / (1 - rho_hat)) / a.shape[0]  # (S,), the same for every i
    torch.testing.assert_close(grad, closed_form.expand_as(a), **TOL)
    assert torch.autograd.gradcheck(lambda t: ae.kl_sparsity_penalty(t, rho, beta), (a[:6, :3].detach().clone().requires_grad_(),))


def test_kl_penalty_uses_the_lecture_defaults(gen, device):
    """Are ρ = 0.05 and β = 0.001 (the lecture's values) the defaults?"""
    a = sigmoid_codes(gen, device)
    torch.testing.assert_close(ae.kl_sparsity_penalty(a), 0.001 * ae.kl_bernoulli(0.05, a.mean(0)).sum(), **TOL)


def test_kl_penalty_is_zero_at_the_target_and_positive_elsewhere(gen, device):
    """Is the penalty 0 when every ρ̂_j = ρ (even if single activations differ) and positive otherwise?"""
    a = torch.full((10, 4), 0.05, dtype=torch.float64, device=device)
    a[:5] += 0.03
    a[5:] -= 0.03  # each column still averages to 0.05
    assert ae.kl_sparsity_penalty(a, 0.05, 1.0).abs().item() < 1e-15
    assert ae.kl_sparsity_penalty(sigmoid_codes(gen, device), 0.05, 1.0).item() > 0


def test_kl_penalty_mistakes_give_different_values(gen, device):
    """Would a grader see swapped arguments, the wrong averaging axis, or a mean over units instead of a sum?"""
    a = sigmoid_codes(gen, device, m=40, s=6)
    right = ae.kl_sparsity_penalty(a, 0.05, 1.0).item()
    rho_hat = a.mean(0)
    swapped = (rho_hat * torch.log(rho_hat / 0.05) + (1 - rho_hat) * torch.log((1 - rho_hat) / 0.95)).sum().item()
    wrong_axis = ae.kl_bernoulli(0.05, a.mean(1)).sum().item()
    mean_over_units = ae.kl_bernoulli(0.05, rho_hat).mean().item()
    for wrong in (swapped, wrong_axis, mean_over_units):
        assert abs(wrong - right) > 1e-3 * right


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("value", [0.0, 1.0])
def test_kl_penalty_stays_finite_for_saturated_units(device, dtype, value):
    """Does a unit that is exactly 0 or 1 on the whole batch give a finite penalty and gradient (ρ̂ is clamped)?"""
    a = torch.full((8, 3), value, dtype=dtype, device=device, requires_grad=True)
    penalty = ae.kl_sparsity_penalty(a, 0.05, 1.0)
    (grad,) = torch.autograd.grad(penalty, a)
    assert torch.isfinite(penalty) and penalty > 0 and torch.isfinite(grad).all()


def test_kl_refuses_a_target_outside_zero_one(device):
    """Is ρ = 0 or ρ = 1 (where the slide's logarithms are undefined) refused with a clear message?"""
    for rho in (0.0, 1.0, 1.5):
        with pytest.raises(ValueError, match="rho"):
            ae.kl_bernoulli(rho, torch.full((3,), 0.5, dtype=torch.float64, device=device))


def test_l1_activity_penalty_sums_over_units_and_averages_over_samples(gen, device):
    """Is the L1 penalty λ · (1/m) Σ_i Σ_j |a_ij|, and not a sum over the batch or a mean over units?"""
    a = torch.randn(6, 5, generator=gen, dtype=torch.float64).to(device)
    got = ae.l1_activity_penalty(a, 0.1)
    expected = 0.1 * torch.stack([F.l1_loss(row, torch.zeros_like(row), reduction="sum") for row in a]).mean()
    torch.testing.assert_close(got, expected, **TOL)
    assert not torch.isclose(got, 0.1 * a.abs().sum()) and not torch.isclose(got, 0.1 * a.abs().mean())


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_corruptions_return_new_tensors_like_the_input(gen, device, dtype):
    """Do both corruptions keep shape, dtype and device, and leave the clean input untouched?"""
    x = torch.rand(4, 1, 28, 28, generator=gen, dtype=dtype).to(device)
    clean = x.clone()
    for noisy in (ae.gaussian_noise(x, 0.3, gen), ae.masking_noise(x, 0.3, gen)):
        assert noisy.shape == x.shape and noisy.dtype == dtype and noisy.device == x.device
        assert noisy.data_ptr() != x.data_ptr() and not torch.equal(noisy, x)
    assert torch.equal(x, clean)


def test_masking_zeroes_a_fraction_p_and_keeps_the_rest(gen, device):
    """Is a fraction ≈ p of the entries zeroed (within 7 standard errors), and is every other entry unchanged?"""
    x = torch.rand(200, 500, generator=gen, dtype=torch.float64).to(device) + 0.5  # no zeros to begin with
    for p in (0.1, 0.5):
        masked = ae.masking_noise(x, p, gen)
        fraction = (masked == 0).double().mean().item()
        assert abs(fraction - p) < 7 * math.sqrt(p * (1 - p) / x.numel())
        kept = masked != 0
        assert torch.equal(masked[kept], x[kept])
    assert torch.equal(ae.masking_noise(x, 0.0, gen), x) and (ae.masking_noise(x, 1.0, gen) == 0).all()


def test_gaussian_noise_has_mean_zero_and_the_given_std(gen, device):
    """Without clipping, is x̃ − x zero-mean with std ≈ σ (within 7 standard errors)?"""
    x = torch.rand(200, 500, generator=gen, dtype=torch.float64).to(device)
    n = x.numel()
    for std in (0.1, 0.5):
        eps = ae.gaussian_noise(x, std, gen, clip=False) - x
        assert abs(eps.mean().item()) < 7 * std / math.sqrt(n)
        assert abs(eps.std().item() - std) < 7 * std / math.sqrt(2 * n)


def test_gaussian_noise_is_clipped_to_the_image_range_by_default(gen, device):
    """Is x̃ clipped to [0, 1] unless clip=False?"""
    x = torch.rand(50, 100, generator=gen, dtype=torch.float64).to(device)
    clipped = ae.gaussian_noise(x, 0.5, copy_of(gen))
    raw = ae.gaussian_noise(x, 0.5, gen, clip=False)
    assert clipped.min() >= 0 and clipped.max() <= 1 and (raw < 0).any() and (raw > 1).any()
    torch.testing.assert_close(clipped, raw.clamp(0, 1), **TOL)


def test_corruptions_are_reproducible_with_a_generator(gen, device):
    """Does the same generator state give the same corruption, and the next draws a different one?"""
    x = torch.rand(30, 40, generator=gen, dtype=torch.float64).to(device)
    for corrupt in (partial(ae.gaussian_noise, std=0.2), partial(ae.masking_noise, p=0.3)):
        again = copy_of(gen)
        first = corrupt(x, generator=gen)
        assert torch.equal(corrupt(x, generator=again), first)
        assert not torch.equal(corrupt(x, generator=gen), first)


def test_reconstruction_mse_is_per_sample_mean_of_squares(gen, device):
    """Is MSE_i = (1/k)‖x_i − x̂_i‖², one value per sample (k = 784 for an image)?"""
    x = torch.rand(5, 1, 28, 28, generator=gen, dtype=torch.float64).to(device)
    x_hat = torch.rand(5, 1, 28, 28, generator=gen, dtype=torch.float64).to(device)
    got = ae.reconstruction_mse(x, x_hat)
    assert got.shape == (5,)
    torch.testing.assert_close(got, F.mse_loss(x_hat, x, reduction="none").flatten(1).mean(1), **TOL)
    torch.testing.assert_close(got, torch.linalg.vector_norm((x - x_hat).flatten(1), dim=1) ** 2 / 784, **TOL)


def test_dense_autoencoder_has_the_lecture_parameter_count():
    """Does 784 → 32 → 784 have 784·32+32 + 32·784+784 parameters, and the 128-wide variant its own count?"""
    count = lambda model: sum(p.numel() for p in model.parameters())
    assert count(ae.DenseAutoencoder()) == 784 * 32 + 32 + 32 * 784 + 784
    deep = 784 * 128 + 128 + 128 * 32 + 32 + 32 * 128 + 128 + 128 * 784 + 784
    assert count(ae.DenseAutoencoder(hidden_dims=(128,))) == deep


@pytest.mark.parametrize("code_activation", ["relu", "sigmoid"])
def test_dense_autoencoder_is_relu_code_then_sigmoid_output(gen, device, code_activation):
    """Is encode(x) = act(x W1ᵀ + b1) and forward(x) = σ(h W2ᵀ + b2), act = ReLU as in the lecture (or sigmoid)?"""
    model = ae.DenseAutoencoder(20, 4, code_activation=code_activation).double().to(device)
    x = torch.rand(7, 20, generator=gen, dtype=torch.float64).to(device)
    enc, dec = [m for m in model.encoder if isinstance(m, torch.nn.Linear)], [m for m in model.decoder if isinstance(m, torch.nn.Linear)]
    act = torch.relu if code_activation == "relu" else torch.sigmoid
    h = act(F.linear(x, enc[0].weight, enc[0].bias))
    torch.testing.assert_close(model.encode(x), h, **TOL)
    torch.testing.assert_close(model(x), torch.sigmoid(F.linear(h, dec[0].weight, dec[0].bias)), **TOL)


def test_deeper_dense_autoencoder_mirrors_its_layers(gen, device):
    """Is hidden_dims=(128,) the stack 784 → 128 → 32 → 128 → 784 with ReLU inside and sigmoid at the end?"""
    model = ae.DenseAutoencoder(hidden_dims=(128,)).double().to(device)
    linears = [m for m in (*model.encoder, *model.decoder) if isinstance(m, torch.nn.Linear)]
    assert [(m.in_features, m.out_features) for m in linears] == [(784, 128), (128, 32), (32, 128), (128, 784)]
    x = torch.rand(3, 784, generator=gen, dtype=torch.float64).to(device)
    h = x
    for i, m in enumerate(linears):
        h = F.linear(h, m.weight, m.bias)
        h = torch.sigmoid(h) if i == 3 else torch.relu(h)
    torch.testing.assert_close(model(x), h, **TOL)


def test_conv_autoencoder_shapes_and_layers(gen, device):
    """Does the conv AE map (N,1,28,28) → code (N,32,7,7) → (N,1,28,28) with exactly the documented layers?"""
    model = ae.ConvAutoencoder().double().to(device)
    x = torch.rand(2, 1, 28, 28, generator=gen, dtype=torch.float64).to(device)
    c1, c2 = model.encoder[0], model.encoder[2]
    t1, t2 = model.decoder[0], model.decoder[2]
    h = F.relu(F.conv2d(F.relu(F.conv2d(x, c1.weight, c1.bias, stride=2, padding=1)), c2.weight, c2.bias, stride=2, padding=1))
    assert model.encode(x).shape == (2, 32, 7, 7)
    torch.testing.assert_close(model.encode(x), h, **TOL)
    up = F.relu(F.conv_transpose2d(h, t1.weight, t1.bias, stride=2, padding=1, output_padding=1))
    out = torch.sigmoid(F.conv_transpose2d(up, t2.weight, t2.bias, stride=2, padding=1, output_padding=1))
    assert model(x).shape == (2, 1, 28, 28)
    torch.testing.assert_close(model(x), out, **TOL)
    assert sum(p.numel() for p in model.parameters()) == (16 * 9 + 16) + (32 * 16 * 9 + 32) + (32 * 16 * 9 + 16) + (16 * 9 + 1)


class Passthrough(torch.nn.Module):
    """A model whose code and output are its input (times a weight that starts at 1): the first loss then shows
    what train_autoencoder compares with what."""

    def __init__(self) -> None:
        super().__init__()
        self.w = torch.nn.Parameter(torch.ones((), dtype=torch.float64))

    def encode(self, x):
        return x * self.w

    def decode(self, h):
        return h


def test_training_corrupts_the_input_but_targets_the_clean_batch(gen, device):
    """With noise x̃ = 1 − x and a pass-through model, is the first loss mse(x̃, x) + sparsity(x̃) (clean target,
    the penalty on the code of the corrupted input)?"""
    X = torch.rand(32, 10, generator=gen, dtype=torch.float64).to(device)
    model = Passthrough().to(device)
    losses = ae.train_autoencoder(model, X, epochs=2, batch_size=32, loss="mse", noise=lambda x: 1 - x,
                                  sparsity=lambda h: h.mean(), generator=gen)
    assert len(losses) == 2
    assert math.isclose(losses[0], (((1 - X) - X) ** 2).mean().item() + (1 - X).mean().item(), rel_tol=1e-10)


def test_training_refuses_an_unknown_loss(device):
    """Is a loss other than "bce" or "mse" refused with the allowed names?"""
    with pytest.raises(ValueError, match="bce"):
        ae.train_autoencoder(Passthrough().to(device), torch.rand(4, 3, dtype=torch.float64, device=device), loss="l2")


@pytest.fixture(scope="module")
def digits():
    """500 training and 200 test MNIST digits (real data from grader.data), flattened, float32."""
    X_train, _ = load_mnist("train")
    X_test, _ = load_mnist("test")
    return torch.from_numpy(X_train[:500]), torch.from_numpy(X_test[:200])


def fresh_model(seed=0, **kwargs):
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return ae.DenseAutoencoder(**kwargs)


def test_training_on_real_digits_reduces_the_loss_and_generalises(digits, device):
    """Do 10 epochs of Adam on 500 real digits cut the BCE clearly, and reconstruct unseen digits far better than
    the untrained model? Is the run reproducible with a seeded generator?"""
    X, X_test = (t.to(device) for t in digits)
    with one_thread():
        untrained = fresh_model().to(device)
        model = fresh_model().to(device)
        losses = ae.train_autoencoder(model, X, epochs=10, lr=3e-3, generator=torch.Generator().manual_seed(0))
        again = ae.train_autoencoder(fresh_model().to(device), X, epochs=10, lr=3e-3, generator=torch.Generator().manual_seed(0))
        with torch.no_grad():
            before = ae.reconstruction_mse(X_test, untrained(X_test)).mean().item()
            after = ae.reconstruction_mse(X_test, model(X_test)).mean().item()
    assert len(losses) == 10 * 8  # ⌈500 / 64⌉ batches per epoch
    assert sum(losses[-8:]) / 8 < 0.5 * sum(losses[:8]) / 8
    assert after < 0.5 * before
    assert losses == again


def test_denoising_training_learns_to_fill_in_masked_pixels(digits, device):
    """Does training with masking noise reconstruct masked test digits better than the same model trained on clean
    inputs (which never learned to fill in)?"""
    X, X_test = (t.to(device) for t in digits)
    with one_thread():
        denoiser, plain = fresh_model().to(device), fresh_model().to(device)
        noise = partial(ae.masking_noise, p=0.5, generator=torch.Generator().manual_seed(1))
        ae.train_autoencoder(denoiser, X, epochs=15, lr=3e-3, noise=noise, generator=torch.Generator().manual_seed(0))
        ae.train_autoencoder(plain, X, epochs=15, lr=3e-3, generator=torch.Generator().manual_seed(0))
        masked = ae.masking_noise(X_test, 0.5, torch.Generator().manual_seed(2))
        with torch.no_grad():
            denoised = ae.reconstruction_mse(X_test, denoiser(masked)).mean().item()
            not_denoised = ae.reconstruction_mse(X_test, plain(masked)).mean().item()
    assert denoised < 0.8 * not_denoised, (denoised, not_denoised)


def test_kl_sparsity_drives_average_activations_towards_rho(digits, device):
    """With a sigmoid code and a strong KL penalty, do the units' average activations end near ρ = 0.05,
    far below those of the same model trained without it?"""
    X, _ = (t.to(device) for t in digits)
    averages = {}
    with one_thread():
        for beta in (0.0, 0.5):
            model = fresh_model(code_activation="sigmoid").to(device)
            sparsity = partial(ae.kl_sparsity_penalty, rho=0.05, beta=beta)
            ae.train_autoencoder(model, X, epochs=10, lr=3e-3, sparsity=sparsity, generator=torch.Generator().manual_seed(0))
            with torch.no_grad():
                averages[beta] = model.encode(X).mean().item()
    assert averages[0.5] < 0.15 and averages[0.5] < 0.5 * averages[0.0], averages
