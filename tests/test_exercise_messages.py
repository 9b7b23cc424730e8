"""Every exercise: a right answer passes and each common wrong one gets its named message.

The student files here are trusted (written by the tests), so they are judged in this
process with `exercises.check_module`, which makes the same calls and the same
comparisons as the child process does; the child itself is tested in test_exercises.py
and test_exercise_attacks.py.
"""

from __future__ import annotations

from types import ModuleType

import numpy as np
import pytest

from fooldigits import exercises
from fooldigits.exercises import judge, reference
from fooldigits.tutor import story as tutor
from tests.exercise_solutions import SOLUTIONS


def variant(name: str, *swaps: tuple[str, str]) -> str:
    """The right solution of `name` with each (old, new) text swapped in."""
    source = SOLUTIONS[name]
    for old, new in swaps:
        assert old in source, (name, old)
        source = source.replace(old, new)
    return source


def failures(name: str, source: str) -> list[str]:
    student = ModuleType("student")
    exec(compile(source, "student.py", "exec"), student.__dict__)
    return [r.message for r in exercises.check_module(name, student).results if not r.passed]


MISTAKES = [
    # chapter 1
    ("nearest_mean", variant("nearest_mean", ("].mean(axis=0)", "].sum(axis=0)")),
     "you summed each digit's images"),
    ("nearest_mean", variant("nearest_mean", ("].mean(axis=0)", "].mean(axis=1)")),
     "average each digit's images over axis 0"),
    ("nearest_mean", variant("nearest_mean", ("images[labels == d].mean(axis=0)",
                                              "images.mean(axis=0)")),
     "the mean of ALL the images"),
    ("nearest_mean", variant("nearest_mean", ("np.argmin(d2, axis=1)", "np.argmax(d2, axis=1)")),
     "FARTHEST mean"),
    ("nearest_mean", variant("nearest_mean", ("np.argmin(d2, axis=1)",
                                              "np.argmax(images @ means.T, axis=1)")),
     "compared dot products"),
    ("nearest_mean", variant("nearest_mean", ("np.argmin(d2, axis=1)", "np.argmin(d2, axis=0)")),
     "over the images (axis=0)"),
    # chapter 2
    ("sigmoid", variant("sigmoid", ("0.5 * (1 + np.tanh(0.5 * np.asarray(z, float)))",
                                    "1 / (1 + np.exp(np.asarray(z, float)))")),
     "your sigmoid goes DOWN as z grows"),
    ("sigmoid", variant("sigmoid", ("s * (1 - s)", "s * (1 + s)")), "sigma * (1 + sigma)"),
    ("sigmoid", variant("sigmoid", ("s * (1 - s)", "z * (1 - z)")), "to z itself"),
    ("backprop", variant("backprop", ("    return nabla_b, nabla_w",
                                      "    w.append(w[0])\n    return nabla_b, nabla_w")),
     "changed its input `w` in place"),
    ("conv", variant("conv", ("kernels.reshape(c, -1)", "kernels[:, ::-1, ::-1].reshape(c, -1)")),
     "you flipped the kernel"),
    ("conv", variant("conv", ("(h - k) // stride + 1, (w - k) // stride + 1\n    rows",
                              "h - k + 1, w - k + 1\n    stride = 1\n    rows")),
     "you used stride 1"),
    ("conv", variant("conv", ("c * stride + k].reshape(n, -1)",
                              "c * stride + k].transpose(0, 2, 1).reshape(n, -1)")),
     "each patch is flattened column by column"),
    ("conv", variant("conv", ("for r in range(h_out) for c in range(w_out)",
                              "for c in range(w_out) for r in range(h_out)")),
     "column-major order"),
    ("conv", variant("conv", ("return z.transpose(0, 2, 1).reshape(n, c, h_out, w_out)",
                              "return z.reshape(n, h_out, w_out, c)")),
     "channels go second"),
    ("conv", variant("conv", ("return z.transpose(0, 2, 1).reshape(n, c, h_out, w_out)",
                              "return z.reshape(n, c, h_out, w_out)")),
     "move the channel axis forward"),
    ("conv", variant("conv", (".T + b", ".T")), "you forgot the bias"),
    # chapter 3
    ("covariance", variant("covariance", ("/ (len(X) - 1)", "/ len(X)")), "divided by n"),
    ("covariance", variant("covariance", ("X_c = X - X.mean(axis=0)", "X_c = X")),
     "centre each column"),
    ("covariance", variant("covariance", ("vectors[:, ::-1][:, :k].T", "vectors[::-1][:k]")),
     "eigenvectors as COLUMNS"),
    ("covariance", variant("covariance", (
        "    top = vectors[:, ::-1][:, :k].T\n", "    return vectors[:, :k].T\n")),
     "smallest eigenvalues: np.linalg.eigh sorts them in ascending order, so take the last k, "
     "largest first; then flip the sign"),
    ("covariance", variant("covariance", ("return top * np.sign", "return top + 0 * np.sign")),
     "flip the sign of each component"),
    # chapter 4
    ("dream", variant("dream", ("x[active] - lr", "x[active] + lr")), "you stepped UP the cost"),
    ("dream", variant("dream", ("np.clip(x[active] - lr * gradient[active], 0, 1)",
                                "x[active] - lr * gradient[active]")), "forgot the clip"),
    ("dream", variant("dream", ("out[active] = np.clip(x[active] - lr * gradient[active], 0, 1)",
                                "out = np.clip(x - lr * gradient, 0, 1)")),
     "you moved every image"),
    ("dream", variant("dream", ("lr * gradient[active]", "lr * np.sign(gradient[active])")),
     "the sign of the gradient"),
    ("dream", variant("dream", ("out = x.copy()", "out = x")), "changed its input `x` in place"),
    # chapter 5
    ("crossover", variant("crossover", ("rng.random(images.shape), images)", "0.5, images)")),
     "every replaced pixel got the same value"),
    ("crossover", variant("crossover", ("hit = rng.random(images.shape) < rate",
                                        "hit = np.arange(images.size).reshape(images.shape) "
                                        "% 10 < 10 * rate")),
     "the same pixels changed for two different generators"),
    ("crossover", variant("crossover", ("    hit = rng.random", "    rng = np.random."
                                        "default_rng(0)\n    hit = rng.random")),
     "two different generators gave the same image"),
    ("crossover", variant("crossover", ("rng.random(images.shape) < rate",
                                        "np.random.random(images.shape) < rate")),
     "global np.random"),
    ("crossover", variant("crossover", ("return np.where(hit, rng.random(images.shape), images)",
                                        "images[hit] = rng.random(int(hit.sum()))\n"
                                        "    return images")),
     "changed its input `images` in place"),
    ("crossover", variant("crossover", ("rng.random(images.shape), images)",
                                        "0.5 + 0.1 * rng.random(images.shape), images)")),
     "not spread evenly"),
    # chapter 6
    ("centre", variant("centre", ("return np.stack([grid.sum(2) @ np.arange(28) / total,\n"
                                  "                     grid.sum(1) @ np.arange(28) / total]",
                                  "return np.stack([grid.sum(1) @ np.arange(28) / total,\n"
                                  "                     grid.sum(2) @ np.arange(28) / total]")),
     "you returned (column, row)"),
    ("centre", variant("centre", ("    grid = images.reshape(-1, 28, 28)\n    total",
                                  "    grid = (images > 0).reshape(-1, 28, 28) * 1.0\n"
                                  "    total")),
     "counted every inked pixel once"),
    ("centre", variant("centre", ("np.arange(28) / total,\n", "np.arange(1, 29) / total,\n"),
                       ("np.arange(28) / total]", "np.arange(1, 29) / total]")),
     "counted rows and columns from 1"),
    ("centre", variant("centre", ("round(14 - r)), int(round(14 - c))",
                                  "round(r - 14)), int(round(c - 14))")),
     "AWAY from the middle"),
    ("centre", variant("centre", ("        padded = np.pad(image, 28)\n"
                                  "        moved[:] = padded[28 - dr:56 - dr, 28 - dc:56 - dc]",
                                  "        moved[:] = np.roll(image, (dr, dc), axis=(0, 1))")),
     "np.roll wraps"),
    ("centre", variant("centre", ("int(round(14 - r)), int(round(14 - c))",
                                  "int(14 - r), int(14 - c)")),
     "int()"),
    ("centre", variant("centre", ("int(round(14 - r)), int(round(14 - c))",
                                  "int(round(14 - c)), int(round(14 - r))")),
     "rows by the column offset"),
    # chapter 8
    ("fgsm", variant("fgsm", ("return np.clip(x + epsilon * np.sign(gradient), 0, 1)",
                              "x += epsilon * np.sign(gradient)\n    np.clip(x, 0, 1, out=x)\n"
                              "    return x")),
     "changed its input `x` in place"),
    ("pgd", variant("pgd", ("np.maximum(x - epsilon, 0), np.minimum(x + epsilon, 1)",
                            "np.maximum(x_adv - epsilon, 0), np.minimum(x_adv + epsilon, 1)")),
     "project back into the ball around the ORIGINAL x"),
    ("pgd", variant("pgd", ("np.maximum(x - epsilon, 0), np.minimum(x + epsilon, 1)", "0, 1")),
     "project back into the ball around the ORIGINAL x"),
    ("pgd", variant("pgd", ("np.maximum(x - epsilon, 0), np.minimum(x + epsilon, 1)",
                            "x - epsilon, x + epsilon")),
     "you forgot the clip to [0, 1]"),
    ("pgd", variant("pgd", ("x_adv + alpha", "x_adv - alpha")), "you stepped down the cost"),
    ("pgd", variant("pgd", ("np.sign(gradient)", "gradient")), "the gradient itself"),
    ("pgd", variant("pgd", ("step = x_adv + alpha * np.sign(gradient)",
                            "x_adv += alpha * np.sign(gradient)\n    step = x_adv")),
     "changed its input `x_adv` in place"),
    # chapter 9
    ("interval_bound", variant("interval_bound", (
        "return lo @ pos + hi @ neg + b, hi @ pos + lo @ neg + b",
        "return lo @ w + b, hi @ w + b")),
     "split w into"),
    ("interval_bound", variant("interval_bound", (
        "return lo @ pos + hi @ neg + b, hi @ pos + lo @ neg + b",
        "return hi @ pos + lo @ neg + b, lo @ pos + hi @ neg + b")),
     "you returned (z_hi, z_lo)"),
    ("interval_bound", variant("interval_bound", ("neg + b, hi", "neg, hi"),
                               ("neg + b\n", "neg\n")),
     "you forgot the bias"),
]


@pytest.mark.parametrize("name", list(exercises.EXERCISES))
def test_the_reference_and_a_students_right_answer_pass(name: str) -> None:
    assert exercises.check_module(name, reference).passed
    found = failures(name, SOLUTIONS[name])
    assert found == [], found


@pytest.mark.parametrize(("name", "source", "named"), MISTAKES,
                         ids=[f"{n}: {m[:40]}" for n, _, m in MISTAKES])
def test_each_common_mistake_is_named(name: str, source: str, named: str) -> None:
    found = failures(name, source)
    assert found, "the mistake passed"
    assert any(named in message for message in found), found


def test_every_exercise_names_at_least_three_mistakes_or_was_there_before() -> None:
    counts = {name: sum(n == name for n, _, _ in MISTAKES) for name in exercises.EXERCISES}
    new = ("nearest_mean", "conv", "dream", "centre", "pgd", "interval_bound")
    assert all(counts[name] >= 3 for name in new), counts


def test_every_chapter_has_an_exercise_and_every_solution_exists() -> None:
    chapters = {e.chapter for e in exercises.EXERCISES.values()}
    assert chapters == {c.key for c in tutor.CHAPTERS}
    for exercise in exercises.EXERCISES.values():
        assert callable(tutor.resolve(exercise.solution)), exercise.solution
        assert exercise.topic in tutor.topics()


def test_every_called_function_has_a_stub_and_a_reference() -> None:
    stubs = judge.parameters()
    for exercise in exercises.EXERCISES.values():
        stub = (exercises.STUBS / f"{exercise.name}.py").read_text()
        assert "raise NotImplementedError" in stub and f"exercise check {exercise.name}" in stub
        for case in exercise.cases():
            for call in case.calls:
                assert call.function in stubs and f"def {call.function}(" in stub
                assert callable(getattr(reference, call.function))
        failed = failures(exercise.name, stub)
        assert failed and "not implemented yet" in failed[0]


def test_the_docs_do_not_give_the_answers_away() -> None:
    """`fooldigits read exercises` shows the code of every name the chapter quotes."""
    quoted = tutor.references((tutor.docs_dir() / "exercises.md").read_text())
    for exercise in exercises.EXERCISES.values():
        assert not any(exercise.solution == name or exercise.solution.startswith(name + ".")
                       for name in quoted), exercise.solution


def test_the_sigmoid_stub_says_what_its_overflow_check_asks() -> None:
    stub = " ".join((exercises.STUBS / "sigmoid.py").read_text().split())
    assert "overflow warnings turned into errors" in stub and "-1000" in stub


# -- the references agree with the project's own loops ---------------------------------------
def test_pgd_steps_are_the_projects_pgd() -> None:
    from fooldigits.lessons import adversarial

    rng = np.random.default_rng(0)
    net = reference.network([784, 30, 10])
    x = rng.random((5, 784)).astype(np.float32)
    labels = rng.integers(0, 10, 5)
    mine = x.astype(np.float64)
    for _ in range(6):
        g = reference.input_gradient(net, mine.astype(np.float32), labels)
        mine = reference.pgd_step(mine, x, g, 2.5 * 0.1 / 6, 0.1)
    theirs = adversarial.pgd(net, x, labels, 0.1, steps=6)
    assert np.allclose(mine, theirs, atol=1e-5)
    assert np.abs(mine - x).max() <= 0.1 + 1e-6


def test_the_interval_bound_is_the_ceilings_first_layer() -> None:
    from fooldigits.lessons import ceiling

    net = reference.network([784, 30, 10])
    lo, hi = ceiling.activation_box(net)
    z_lo, z_hi = reference.interval_bound(net.w[0].astype(np.float64),
                                          net.b[0].astype(np.float64), np.zeros(784),
                                          np.ones(784))
    assert np.allclose(1 / (1 + np.exp(-z_lo)), lo) and np.allclose(1 / (1 + np.exp(-z_hi)), hi)
    x = np.random.default_rng(1).random((200, 784))  # real images lie inside the bound
    z = x @ net.w[0] + net.b[0]
    assert np.all(z >= z_lo - 1e-9) and np.all(z <= z_hi + 1e-9)


def test_dream_steps_are_the_projects_dream() -> None:
    from fooldigits.lessons.dream import DreamConfig, dream

    net = reference.network([784, 30, 10])
    digits = np.arange(4)
    config = DreamConfig(steps=5, lr=2.0, threshold=0.5)
    theirs = dream(net, digits, config, np.random.default_rng(3))
    x = np.random.default_rng(3).random((4, 784), dtype=np.float32).astype(np.float64)
    for _ in range(config.steps):
        active = net.probabilities(x.astype(np.float32))[np.arange(4), digits] < 0.5
        g = reference.input_gradient(net, x.astype(np.float32), digits)
        x = reference.dream_step(x, g, config.lr, active)
    assert np.allclose(x, theirs.images, atol=1e-4)


def test_centring_puts_the_centre_of_mass_at_the_middle() -> None:
    from fooldigits.exercises.checks_fooling import centre_images

    images = centre_images()
    moved = reference.centre(images)
    assert np.all(np.abs(reference.centre_of_mass(moved[:4]) - 14) <= 0.5)
    assert np.allclose(moved[:4].sum(axis=1), images[:4].sum(axis=1))  # no ink lost
    assert np.isclose(moved[4].sum(), images[4].sum() - 0.3)  # the far speck fell off
    grid = images[0].reshape(28, 28)  # ink is weighted: not the mean of inked positions
    assert not np.allclose(reference.centre_of_mass(images[:1])[0],
                           np.argwhere(grid > 0).mean(axis=0))


def test_conv_forward_is_a_cross_correlation() -> None:
    rng = np.random.default_rng(0)
    images, kernels, b = rng.random((2, 7, 8)), rng.normal(size=(3, 3, 3)), rng.normal(size=3)
    z = reference.conv_forward(images, kernels, b, 2)
    assert z.shape == (2, 3, 3, 3)
    assert np.isclose(z[1, 2, 1, 2], (images[1, 2:5, 4:7] * kernels[2]).sum() + b[2])

