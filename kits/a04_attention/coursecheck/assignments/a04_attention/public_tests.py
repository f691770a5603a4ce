"""Public checks of a04_attention, taken from its grader for the student kit.

Expected values and named mistakes' values come from the record made when the kit was built."""
import numpy as np
from coursecheck import rubric as pytest
import torch
from coursecheck.compare import Mismatch, Mistake, assert_choice, assert_close, matches
ref = reference_module('reference.attention')


NEG_INF = float('-inf')


SOFTMAX_NAN_HINT = "the weights are a softmax of the scores: if you wrote that softmax yourself, subtract each row's maximum before exp (or use torch.softmax)"


def t(a: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(a)


def normal(rng: np.random.Generator, *shape: int) -> np.ndarray:
    return rng.normal(size=shape)


def pair(got, name: str) -> tuple:
    """The student's (output, weights), or a Mismatch that says what came back instead."""
    if not isinstance(got, (tuple, list)) or len(got) != 2:
        what = f'a {type(got).__name__}' + (f' of length {len(got)}' if isinstance(got, (tuple, list)) else '')
        raise Mismatch(f'`{name}` should return a pair `(output, weights)`, but it returned {what}')
    return (got[0], got[1])


def right_padding(rng: np.random.Generator, batch: int, n: int, low: int, high: int) -> np.ndarray:
    """(batch, n) bool, True = padding: each sequence has a length in [low, high] and padding after it."""
    lengths = rng.integers(low, high + 1, size=batch)
    return np.arange(n)[None, :] >= lengths[:, None]


def same_nan_pattern(actual, variant: torch.Tensor) -> bool:
    """True when `actual` is NaN exactly where `variant` is NaN and close to it elsewhere."""
    a = np.asarray(actual, dtype=np.float64) if isinstance(actual, np.ndarray) else None
    v = variant.numpy()
    if a is None or a.shape != v.shape:
        return False
    nan = np.isnan(v)
    return bool(nan.any()) and bool((np.isnan(a) == nan).all()) and matches(np.where(nan, 0.0, a), np.where(nan, 0.0, v))


def check_attention(got, q, k, v, fn: str) -> None:
    out, weights = pair(got, fn)
    expected_out, expected_w = ref.scaled_dot_product_attention(q, k, v)
    out_m, w_m = recorded_call('check_attention#1', None, q, k, v)
    assert_close(actual=out, expected=expected_out, name=f'{fn}(q, k, v)[0] (the output)', mistakes=out_m, nan_hint=SOFTMAX_NAN_HINT)
    assert_close(actual=weights, expected=expected_w, name=f'{fn}(q, k, v)[1] (the weights)', mistakes=w_m, nan_hint=SOFTMAX_NAN_HINT)


@pytest.mark.task('attention')
@pytest.mark.points(2)
def test_attention_on_a_batch_of_self_attention_inputs(submission, rng):
    """attention(Q, K, V) = softmax(Q Kᵀ / √d_k) V and its weights, batch of 2, m = n = d_k = 4"""
    q, k, v = (t(normal(rng, 2, 4, 4)), t(normal(rng, 2, 4, 4)), t(normal(rng, 2, 4, 3)))
    check_attention(submission.call('attention', q.numpy(), k.numpy(), v.numpy()), q, k, v, 'attention')


def check_causal_mask(submission, m: int, n: int) -> None:
    got = submission.call('causal_mask', m, n)
    if isinstance(got, np.ndarray) and got.shape == (m, n) and (got.dtype != np.bool_):
        raise Mismatch(f'`causal_mask({m}, {n})` has dtype {got.dtype}: return a bool tensor (True = masked), for example with dtype=torch.bool')
    assert_close(actual=got, expected=recorded_value('check_causal_mask#1', None, m, n), name=f'causal_mask({m}, {n})', mistakes=recorded_call('check_causal_mask#2', None, m, n))


@pytest.mark.task('masks')
@pytest.mark.points(1)
def test_causal_mask_square(submission, rng):
    """causal_mask(m, m): True exactly where key j is in the future of query i (j > i)"""
    m = int(rng.integers(4, 7))
    check_causal_mask(submission, m, m)


def check_masked(got, q, k, v, mask: torch.Tensor | None, causal: bool) -> None:
    out, weights = pair(got, 'masked_attention')
    expected_out, expected_w = ref.scaled_dot_product_attention(q, k, v, mask, causal)
    if mask is not None and (not causal) and (q.shape[-2] == k.shape[-2]):
        on_queries = recorded_call('check_masked#2', None, recorded_call('check_masked#1', None, q, k).masked_fill(mask[:, :, None], NEG_INF))
        if same_nan_pattern(weights, on_queries):
            raise Mismatch("`masked_attention(...)[1] (the weights)` is wrong: it looks like the padding mask applied to the queries (rows) instead of the keys (columns); the padded queries' rows became NaN. The mask (B, n) marks keys: broadcast it as key_padding_mask[:, None, :].")
    if isinstance(weights, np.ndarray) and weights.shape == tuple(expected_w.shape) and np.isnan(weights).any():
        rows = sorted({int(i) for i in np.argwhere(np.isnan(weights).any(axis=-1))[:, 1]})
        raise Mismatch(f'`masked_attention(...)[1] (the weights)` has NaN in the rows of queries {rows[:8]}: a softmax over a row whose scores are all −∞ is 0/0. No query of this test has all its keys masked, so a mask covers too much: the causal mask must keep the diagonal (query i sees keys 0..i), and the padding mask marks keys (columns) with True = padding.')
    variants = recorded_call('check_masked#3', None, q, k, v, mask, causal)
    hint = {'the mask applied after the softmax: masked weights set to 0 but the rows not renormalised': 'Set masked scores to −∞ before the softmax, so the remaining weights still sum to 1.'}
    assert_close(actual=weights, expected=expected_w, name='masked_attention(...)[1] (the weights)', mistakes=[Mistake(name, w, hint.get(name, '')) for name, w in variants.items()])
    assert_close(actual=out, expected=expected_out, name='masked_attention(...)[0] (the output)', mistakes=[Mistake(name, recorded_value('check_masked#4', None, v, w)) for name, w in variants.items()])


@pytest.mark.task('masks')
@pytest.mark.points(1)
def test_padding_mask_ignores_padded_keys(submission, rng):
    """key_padding_mask (True = padding key): padded keys get weight exactly 0, the other weights still sum to 1"""
    B, n = (3, 5)
    q, k, v = (t(normal(rng, B, n, 4)), t(normal(rng, B, n, 4)), t(normal(rng, B, n, 3)))
    mask = t(right_padding(rng, B, n, 2, 4))
    got = submission.call('masked_attention', q.numpy(), k.numpy(), v.numpy(), key_padding_mask=mask.numpy())
    check_masked(got, q, k, v, mask, False)


def random_module(rng: np.random.Generator, E: int, heads: int) -> torch.nn.MultiheadAttention:
    """nn.MultiheadAttention(E, heads, batch_first=True) in float64 with random weights and biases from `rng`."""
    mha = torch.nn.MultiheadAttention(E, heads, batch_first=True, dtype=torch.float64).eval()
    with torch.no_grad():
        for p in mha.parameters():
            p.copy_(t(rng.normal(0.0, 0.5, size=tuple(p.shape))))
    return mha


MHA_OUT_MISTAKES = {'heads split along the wrong axis (reshape to (B, h, m, d) instead of (B, m, h, d) then transpose)': {'split': False}, 'heads concatenated in the wrong order (reshape (B, h, m, d) to (B, m, E) without transposing back)': {'merge': False}, 'no output projection (concat(head_1..head_h) returned without W_o, b_o)': {'out_proj': False}, 'the scores scaled by √E (the model width) instead of √d (the head width E / h)': {'head_scale': False}, 'the in-projection biases left out': {'in_bias': False}, 'the projection weights not transposed (x W instead of x Wᵀ)': {'transpose_w': False}}


def check_mha(submission, rng, B: int, m: int, n: int, E: int, heads: int, self_attention: bool) -> None:
    mha = random_module(rng, E, heads)
    query = t(normal(rng, B, m, E))
    key, value = (query, query) if self_attention else (t(normal(rng, B, n, E)), t(normal(rng, B, n, E)))
    with torch.no_grad():
        expected, expected_w = mha(query, key, value, need_weights=True, average_attn_weights=True)
    params = [mha.in_proj_weight.detach(), mha.in_proj_bias.detach(), mha.out_proj.weight.detach(), mha.out_proj.bias.detach()]
    got = submission.call('multi_head_attention', query.numpy(), key.numpy(), value.numpy(), heads, *[p.numpy() for p in params])
    out, weights = pair(got, 'multi_head_attention')
    args = (query, key, value, heads, *params)
    assert_close(actual=out, expected=expected, name='multi_head_attention(...)[0] (the output)', mistakes=[Mistake(name, recorded_value('check_mha#1', None, args, kw)) for name, kw in MHA_OUT_MISTAKES.items()])
    per_head = recorded_call('check_mha#2', None, *args)[2]
    if isinstance(weights, np.ndarray) and weights.shape == tuple(per_head.shape) and (heads > 1):
        raise Mismatch(f'`multi_head_attention(...)[1] (the weights)` has shape {weights.shape}, one map per head: return their average over the heads, shape {tuple(expected_w.shape)} (as nn.MultiheadAttention does with average_attn_weights=True)')
    assert_close(actual=weights, expected=expected_w, name='multi_head_attention(...)[1] (the weights averaged over heads)', mistakes=[Mistake('the weights summed over the heads instead of averaged', recorded_value('check_mha#3', None, per_head)), Mistake('the weights of the first head only instead of the average over the heads', recorded_value('check_mha#4', None, per_head))] + [Mistake(name, recorded_value('check_mha#5', None, args, kw)) for name, kw in MHA_OUT_MISTAKES.items() if not {'merge', 'out_proj'} & set(kw)])


@pytest.mark.task('multi_head')
@pytest.mark.points(2)
def test_multi_head_self_attention_matches_nn_multiheadattention(submission, rng):
    """self-attention, E = 8, h = 2 heads: output and head-averaged weights equal nn.MultiheadAttention's (float64)"""
    check_mha(submission, rng, B=2, m=5, n=5, E=8, heads=2, self_attention=True)


def plot_harness(student, weights, query_tokens, key_tokens):
    """Runs in the sandbox: draw with the student's plot_attention on a fresh Agg figure, return plain data."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    import numpy as np
    if hasattr(weights, 'cpu'):
        weights = weights.cpu()
    plt.close('all')
    fig, ax = plt.subplots()
    student.plot_attention(ax, weights, list(query_tokens), list(key_tokens))
    fig.canvas.draw()
    images = list(ax.images)

    def drawn_ticks(positions, labels, limits):
        low, high = (min(limits), max(limits))
        kept = [(float(p), str(label.get_text())) for p, label in zip(positions, labels) if low - 1e-09 <= float(p) <= high + 1e-09]
        return ([p for p, _ in kept], [label for _, label in kept])
    xticks, xlabels = drawn_ticks(ax.get_xticks(), ax.get_xticklabels(), ax.get_xlim())
    yticks, ylabels = drawn_ticks(ax.get_yticks(), ax.get_yticklabels(), ax.get_ylim())
    data = np.array(np.ma.getdata(images[0].get_array()), dtype=np.float64) if images else None
    result = {'image': data, 'colours': np.array(images[0].to_rgba(images[0].get_array())[..., :3], dtype=np.float64) if images else None, 'clim': [float(c) for c in images[0].get_clim()] if images else None, 'n_images': len(images), 'xticks': xticks, 'yticks': yticks, 'xlabels': xlabels, 'ylabels': ylabels, 'n_axes': len(fig.axes), 'other_images': sum((len(a.images) for num in plt.get_fignums() for a in plt.figure(num).axes if a is not ax))}
    plt.close('all')
    return result


ENGLISH = ['the', 'cat', 'sat', 'on', 'mat', 'dog', 'ran', 'home', 'a', 'bird', 'sang', 'today', 'it', 'was', 'tired']


FRENCH = ['le', 'chat', 'est', 'assis', 'sur', 'tapis', 'chien', 'court', 'maison', 'un', 'oiseau', 'chante', 'il', 'fatigué']


def drawing(submission, weights: np.ndarray, query_tokens: list[str], key_tokens: list[str]) -> dict:
    result = submission.run(plot_harness, weights, query_tokens, key_tokens)
    if not isinstance(result, dict):
        raise Mismatch('the plot could not be read back')
    if result['n_images'] == 0:
        where = ' (there is an image on another Axes: draw on the `ax` you are given, not with plt.imshow on a new figure)' if result['other_images'] else ''
        raise Mismatch(f'there is no image on the Axes you were given: draw the weights with ax.imshow(weights){where}')
    return result


def check_image(result: dict, weights: np.ndarray) -> None:
    image = result['image']
    m, n = weights.shape
    if isinstance(image, np.ndarray) and image.shape == (n, m) and (m != n):
        raise Mismatch(f'the image has shape {image.shape}, expected {weights.shape}: it looks like the weights drawn transposed (keys on the y axis). Draw `weights` as it is: row i = query i, column j = key j.')
    assert_close(actual=image, expected=weights, name='the image drawn by imshow', mistakes=[Mistake('the weights drawn transposed (keys on the y axis)', recorded_value('check_image#1', None, weights), 'Draw `weights` as it is: row i = query i (y axis), column j = key j (x axis).')])


DISTINCT_FRACTION = 0.1


DISTINCT_GAP = 0.02


def check_colours(result: dict, weights: np.ndarray) -> None:
    """What is drawn shows the data: weights far apart are not painted in one colour (a clipping vmin or vmax)."""
    colours = result.get('colours')
    if not (isinstance(colours, np.ndarray) and colours.shape == weights.shape + (3,)):
        raise Mismatch('the colours of the image could not be read back: draw the weights with ax.imshow(weights)')
    w = weights.reshape(-1)
    c = colours.reshape(-1, 3)
    gap = np.abs(w[:, None] - w[None, :])
    far = gap >= max(DISTINCT_FRACTION * (w.max() - w.min()), DISTINCT_GAP)
    alike = np.all(np.abs(c[:, None, :] - c[None, :, :]) < 1e-12, axis=-1)
    bad = np.argwhere(far & alike)
    if len(bad):
        i, j = bad[0]
        low, high = result.get('clim') or (float('nan'), float('nan'))
        raise Mismatch(f'{len(bad) // 2} pair(s) of weights that differ are drawn in the same colour (e.g. {w[i]:.3g} and {w[j]:.3g}): the colour scale runs from vmin={low:.3g} to vmax={high:.3g}, so weights outside it are clipped to one colour. The weights lie in [0, 1]: leave vmin and vmax out, or use vmin=0, vmax=1.')


def check_labels(result: dict, query_tokens: list[str], key_tokens: list[str]) -> None:
    xl, yl = (result['xlabels'], result['ylabels'])
    if xl == query_tokens and yl == key_tokens and (query_tokens != key_tokens):
        raise Mismatch('the query and key tokens swapped between the axes: the keys go on the x axis (columns), the queries on the y axis (rows)')
    for axis, got, tokens, ticks in (('x', xl, key_tokens, result['xticks']), ('y', yl, query_tokens, result['yticks'])):
        if got != tokens:
            shown = got if len(got) <= 12 else got[:12] + ['...']
            raise Mismatch(f"the {axis} tick labels are {shown}, expected the {('key' if axis == 'x' else 'query')} tokens {tokens}: set one tick per token, e.g. ax.set_{axis}ticks(range({len(tokens)}), labels=...)")
        if not np.allclose(ticks, np.arange(len(tokens))):
            raise Mismatch(f'the {axis} ticks are at {ticks}: put token i at position i (ax.set_{axis}ticks(range({len(tokens)}), ...)), so each label sits on its row or column of the image')


def redraw(result: dict, weights: np.ndarray, query_tokens: list[str], key_tokens: list[str]):
    """The student's drawing, redrawn here from the plain data it returned, beside the expected heatmap."""
    from matplotlib.figure import Figure
    fig = Figure(figsize=(7.5, 3.2))
    for ax, image, title, xl, yl in ((fig.add_subplot(1, 2, 1), result['image'], 'your plot_attention', result['xlabels'], result['ylabels']), (fig.add_subplot(1, 2, 2), weights, 'expected', key_tokens, query_tokens)):
        if isinstance(image, np.ndarray) and image.ndim == 2:
            shown = ax.imshow(image, cmap='viridis', vmin=0.0, vmax=1.0)
            fig.colorbar(shown, ax=ax, fraction=0.046)
        ax.set_title(title, fontsize=9)
        if len(xl) == (image.shape[1] if isinstance(image, np.ndarray) and image.ndim == 2 else -1):
            ax.set_xticks(range(len(xl)), labels=xl, rotation=45, fontsize=7)
        if len(yl) == (image.shape[0] if isinstance(image, np.ndarray) and image.ndim == 2 else -1):
            ax.set_yticks(range(len(yl)), labels=yl, fontsize=7)
    fig.tight_layout()
    return fig


def random_weights(rng: np.random.Generator, m: int, n: int) -> np.ndarray:
    return ref.scaled_dot_product_attention(t(normal(rng, m, 3)), t(normal(rng, n, 3)), t(normal(rng, n, 1)))[1].numpy()


@pytest.mark.task('heatmap')
@pytest.mark.points(1)
def test_heatmap_draws_the_weights(submission, rng):
    """plot_attention draws the (m, n) weights as they are (row i = query i, column j = key j), in distinct colours"""
    tokens = [str(w) for w in rng.choice(ENGLISH, size=5, replace=False)]
    weights = random_weights(rng, 5, 5)
    result = drawing(submission, weights, tokens, tokens)
    check_image(result, weights)
    check_colours(result, weights)


@pytest.mark.task('heatmap')
@pytest.mark.points(1)
def test_heatmap_labels_keys_on_x_and_queries_on_y(submission, rng, figure):
    """cross-attention heatmap: key tokens label the x axis, query tokens the y axis, one tick per token"""
    queries, keys = ([str(w) for w in rng.choice(FRENCH, size=4, replace=False)], [str(w) for w in rng.choice(ENGLISH, size=6, replace=False)])
    weights = random_weights(rng, 4, 6)
    result = drawing(submission, weights, queries, keys)
    figure('your attention heatmap (left, redrawn from what your plot_attention drew) and the expected one', redraw(result, weights, queries, keys))
    check_labels(result, queries, keys)


@pytest.mark.task('concepts')
@pytest.mark.points(1)
def test_q_scaling(submission):
    """why the scores are divided by √d_k"""
    assert_choice(actual=submission.get('q_scaling'), correct='c', name='q_scaling', explanations={'a': 'the softmax already makes every row sum to 1, whatever the scale of the scores', 'b': 'dividing by a constant costs one extra operation and saves nothing; the cost is the n×n products', 'd': "the output's width is d_v, set by V; a scalar factor on the scores changes no shape"})


@pytest.mark.task('concepts')
@pytest.mark.points(1)
def test_q_causal(submission):
    """what the causal mask prevents"""
    assert_choice(actual=submission.get('q_causal'), correct='b', name='q_causal', explanations={'a': "ignoring padding is the key padding mask's job; the causal mask depends only on positions", 'c': 'the diagonal stays visible: query i may attend to key i (only j > i is masked)', 'd': 'masking changes which keys are used, not the size of the gradients'})
