"""Public checks of a00_warmup, taken from its grader for the student kit.

Expected values and named mistakes' values come from the record made when the kit was built."""
import numpy as np
from coursecheck import rubric as pytest
from coursecheck.compare import Mistake, assert_close
ref = reference_module('reference.activations')


SOFTMAX_NAN_HINT = 'e^x overflows to inf beyond x ≈ 709 and underflows to 0 below −745: subtract the maximum along dim before exp'


@pytest.mark.task('sigmoid')
@pytest.mark.points(1)
def test_sigmoid_on_random_inputs(submission, rng):
    """sigmoid(x) = 1 / (1 + e^(-x)) elementwise on a random matrix"""
    x = rng.normal(0.0, 3.0, size=(4, 5))
    got = submission.call('sigmoid', x)
    assert_close(actual=got, expected=recorded_value('test_sigmoid_on_random_inputs#1', None, x), name='sigmoid(x)', mistakes=[Mistake('1 / (1 + e^x): the sign in the exponent is flipped', recorded_value('test_sigmoid_on_random_inputs#2', None, x)), Mistake('tanh(x) instead of the sigmoid', recorded_value('test_sigmoid_on_random_inputs#3', None, x)), Mistake('1 + e^(-x): the reciprocal is missing', recorded_value('test_sigmoid_on_random_inputs#4', None, x))])


@pytest.mark.task('relu')
@pytest.mark.points(1)
def test_relu_on_random_inputs(submission, rng):
    """relu(x) = max(0, x) elementwise"""
    x = rng.normal(size=(6, 7))
    got = submission.call('relu', x)
    assert_close(actual=got, expected=recorded_value('test_relu_on_random_inputs#1', None, x), name='relu(x)', mistakes=[Mistake('min(0, x): the negative part instead of the positive part', recorded_value('test_relu_on_random_inputs#2', None, x)), Mistake('|x|: negative inputs must become 0, not positive', recorded_value('test_relu_on_random_inputs#3', None, x)), Mistake('a leaky ReLU (0.01·x for x < 0)', recorded_value('test_relu_on_random_inputs#4', None, x))])


@pytest.mark.task('softmax')
@pytest.mark.points(1)
def test_softmax_rows_of_a_batch(submission, rng):
    """softmax over the last axis of a batch of logits: each row is a probability distribution"""
    x = rng.normal(size=(5, 4))
    got = submission.call('softmax', x)
    expected = ref.softmax(recorded_call('test_softmax_rows_of_a_batch#1', None, x), dim=-1).numpy()
    e = np.exp(x)
    assert_close(actual=got, expected=expected, name='softmax(x)', nan_hint=SOFTMAX_NAN_HINT, mistakes=[Mistake('a softmax over the wrong axis (columns instead of rows)', recorded_value('test_softmax_rows_of_a_batch#2', None, e)), Mistake('normalised over all elements at once instead of per row', recorded_value('test_softmax_rows_of_a_batch#3', None, e)), Mistake('the log-softmax', recorded_value('test_softmax_rows_of_a_batch#4', None, e, x)), Mistake('the exponentials without dividing by their sum', e)])
