"""The `fooldigits` command: parse, call the library, render. No maths lives here.

Every command imports NumPy, Rich and the library *inside* its function, so that
`fooldigits --help` stays fast (a test checks it imports neither NumPy nor Rich's
progress machinery). Library errors (`FoolDigitsError`) become one `[error]` line on
stderr and exit code 1; Ctrl-C becomes one line and exit code 130.
"""

from __future__ import annotations

import functools
import json
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from fooldigits import FoolDigitsError

if TYPE_CHECKING:
    from rich.console import Console, RenderableType
    from rich.live import Live

    from fooldigits.evolve import Generation
    from fooldigits.network import Network

app = typer.Typer(
    help="Artificial neural networks are not human: train an MNIST network, then fool it.\n\n"
    "Start with `fooldigits tutor` for the whole story, or `fooldigits show` to see the data.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
F = TypeVar("F", bound=Callable[..., Any])

# -- options shared by many commands -------------------------------------------------------
ModelOpt = Annotated[
    Path | None, typer.Option("--model", help="A model .npz from `fooldigits train`; "
                              "default: the shipped model.")]
DataOpt = Annotated[
    Path | None, typer.Option("--data-dir", help="A folder with the four MNIST IDX files "
                              "(raw or .gz), e.g. Fashion-MNIST; default: the bundled MNIST.")]
SeedOpt = Annotated[int, typer.Option("--seed", help="Seed for every random choice.")]
NoColorOpt = Annotated[bool, typer.Option("--no-color", help="Plain ASCII art, no colour.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object instead.")]
PngOpt = Annotated[Path | None, typer.Option("--png", help="Also save the picture as a PNG.")]


def command(*names: str, target: typer.Typer | None = None, **kwargs: Any
            ) -> Callable[[F], F]:
    """`app.command`, plus: FoolDigitsError -> one line and exit 1; Ctrl-C -> exit 130."""

    def decorate(function: F) -> F:
        @functools.wraps(function)
        def wrapper(*args: Any, **kw: Any) -> Any:
            try:
                return function(*args, **kw)
            except FoolDigitsError as err:
                typer.echo(f"[error] {err}", err=True)
                raise typer.Exit(1) from None
            except KeyboardInterrupt:
                typer.echo("[stopped] interrupted by Ctrl-C", err=True)
                raise typer.Exit(130) from None
            except MemoryError:
                typer.echo("[error] not enough memory for this; ask for fewer or smaller "
                           "things", err=True)
                raise typer.Exit(1) from None

        (target or app).command(*names, **kwargs)(wrapper)
        return function

    return decorate


def _console(no_color: bool = False, as_json: bool = False) -> Console:
    """The console to draw on; with --json, progress goes to stderr so stdout stays JSON."""
    from fooldigits.render import make_console
    from fooldigits.speed import keep_freed_memory

    keep_freed_memory()
    return make_console(no_color, stderr=as_json)


def _print_json(payload: object) -> None:
    typer.echo(json.dumps(payload, indent=2))


def _digit(value: int | None, name: str = "--digit") -> None:
    if value is not None and not 0 <= value <= 9:
        raise FoolDigitsError(f"{name} must be a digit 0..9, got {value}")


def _positive(value: int, name: str) -> None:
    if value < 1:
        raise FoolDigitsError(f"{name} must be at least 1, got {value}")


def _load(model: Path | None) -> Network:
    from fooldigits.network import Network

    return Network.load(model)


def _show(console: Console, *renderables: RenderableType) -> None:
    from rich.console import Group

    console.print(Group(*renderables))


def _draw_generation(live: Live, event: Generation, blocks: bool, last: float) -> float:
    """Redraw the evolving image at most ten times a second; returns the time drawn."""
    from fooldigits.render import evolving

    if time.perf_counter() - last < 0.1:
        return last
    live.update(evolving(event, blocks))
    return time.perf_counter()


def _blocks(console: Console) -> bool:
    from fooldigits.render import uses_blocks

    return uses_blocks(console)


# -- chapter 1: data and network ------------------------------------------------------------
@command()
def show(
    digit: Annotated[int | None, typer.Option(help="Only this digit (0-9); default: any.")] = None,
    count: Annotated[int, typer.Option(help="How many images.")] = 8,
    data_dir: DataOpt = None,
    png: PngOpt = None,
    no_color: NoColorOpt = False,
) -> None:
    """Show training images as block art: what MNIST looks like to the network."""
    _digit(digit)
    _positive(count, "--count")
    from fooldigits.data import training_digits
    from fooldigits.render import digit_grid, save_png

    console = _console(no_color)
    images, labels = training_digits(digit, count, data_dir)
    console.print(digit_grid(images, [f"label {d}" for d in labels], _blocks(console),
                             width=console.width))
    if png:
        save_png(images, png)
        console.print(f"saved {png}")


def _hidden_sizes(hidden: list[str]) -> list[int]:
    sizes: list[int] = []
    for part in ",".join(hidden).split(","):
        try:
            sizes.append(int(part))
        except ValueError:
            raise FoolDigitsError(f"--hidden takes whole numbers, got {part!r}") from None
    if any(s < 1 for s in sizes):
        raise FoolDigitsError(f"--hidden sizes must be at least 1, got {sizes}")
    return sizes


class Activation(StrEnum):
    sigmoid = "sigmoid"
    relu = "relu"


class Output(StrEnum):
    softmax = "softmax"
    sigmoid = "sigmoid"


class DreamPrior(StrEnum):
    none = "none"
    l2 = "l2"
    tv = "tv"
    blur = "blur"


class FoolPrior(StrEnum):
    none = "none"
    stats = "stats"
    local = "local"


class Cost(StrEnum):
    cross_entropy = "cross-entropy"
    quadratic = "quadratic"


@command()
def train(
    hidden: Annotated[list[str], typer.Option(
        help="Hidden layer sizes; repeat or comma-separate for a deeper net: 100 or 100,30."
    )] = ["100"],  # noqa: B006 - typer needs a list default
    epochs: Annotated[int, typer.Option(help="Passes over the 50,000 training images.")] = 15,
    eta: Annotated[float, typer.Option(help="Learning rate at the start.")] = 0.1,
    final_eta: Annotated[float, typer.Option(
        help="Learning rate at the end, as a fraction of --eta (linear decay); 1 = constant.")
    ] = 0.0,
    lmbda: Annotated[float, typer.Option(help="L2 regularisation strength (weight decay).")] = 0.5,
    momentum: Annotated[float, typer.Option(help="Momentum mu (0 = plain SGD).")] = 0.9,
    batch_size: Annotated[int, typer.Option(help="Mini-batch size m.")] = 32,
    shift: Annotated[bool, typer.Option(
        help="Shift each training image by a random pixel every epoch (Nielsen's expand_mnist).")
    ] = True,
    cost: Annotated[Cost, typer.Option(help="Cost function.")] = Cost.cross_entropy,
    activation: Annotated[Activation, typer.Option(help="Hidden neurons.")] = Activation.sigmoid,
    output: Annotated[Output, typer.Option(help="Output layer.")] = Output.softmax,
    seed: SeedOpt = 1,
    out: Annotated[Path, typer.Option(help="Where to save the model (.npz).")] = Path("model.npz"),
    data_dir: DataOpt = None,
    no_color: NoColorOpt = False,
) -> None:
    """Train a network by mini-batch SGD, with a live progress bar and accuracy per epoch.

    The defaults are the recipe of the shipped model: 784-100-10 sigmoid, softmax out,
    cross-entropy, momentum 0.9, eta 0.1 decaying to 0, 15 epochs: about 98.3% in 5 s.
    The model with the best validation accuracy is saved, also if you press Ctrl-C.
    """
    import numpy as np

    from fooldigits.data import load_mnist
    from fooldigits.network import BatchDone, Network, SGDConfig, sgd
    from fooldigits.render import progress_bar

    sizes = [784, *_hidden_sizes(hidden), 10]
    _positive(epochs, "--epochs")
    _positive(batch_size, "--batch-size")
    config = SGDConfig(epochs, batch_size, eta, lmbda, momentum, final_eta, shift)
    config.check()
    if out.is_dir() or not (out.parent if str(out.parent) else Path(".")).is_dir():
        raise FoolDigitsError(f"cannot save to {out}: pick a file in an existing folder")
    console = _console(no_color)
    data = load_mnist(data_dir)
    rng = np.random.default_rng(seed)
    net = Network(sizes, activation=activation.value, output=output.value, cost=cost.value,
                  rng=rng)
    net.meta["command"] = (  # every setting spelled out, so the model can be remade
        f"fooldigits train --hidden {','.join(map(str, sizes[1:-1]))} --epochs {epochs} "
        f"--eta {eta} --final-eta {final_eta} --lmbda {lmbda} --momentum {momentum} "
        f"--batch-size {batch_size} {'--shift' if shift else '--no-shift'} --cost {cost.value} "
        f"--activation {activation.value} --output {output.value} --seed {seed}"
        + (f" --data-dir {data_dir}" if data_dir else ""))
    best, best_accuracy = net.copy(), -1.0
    events = sgd(net, data.train_images, data.train_labels, config, rng,
                 (data.validation_images, data.validation_labels),
                 (data.test_images, data.test_labels))
    console.print(f"training {'-'.join(map(str, sizes))} on {len(data.train_images)} images")
    with progress_bar(console) as bar:
        task = bar.add_task("epoch 1", total=epochs * 1000, info="")
        try:
            for event in events:
                if isinstance(event, BatchDone):
                    done = (event.epoch - 1) * 1000 + 1000 * event.batch // event.batches
                    bar.update(task, completed=done, description=f"epoch {event.epoch}")
                    continue
                bar.update(task, completed=event.epoch * 1000)
                val, test = event.validation_accuracy or 0.0, event.test_accuracy or 0.0
                bar.console.print(f"epoch {event.epoch:3d}/{epochs}: validation {100 * val:.2f}%,"
                                  f" test {100 * test:.2f}%  ({event.seconds:.1f} s)")
                if val > best_accuracy:
                    best, best_accuracy = net.copy(), val
                bar.update(task, info=f"best validation {100 * best_accuracy:.2f}%")
        except KeyboardInterrupt:
            bar.stop()
            best.meta["stopped"] = "by Ctrl-C before the last epoch"
            console.print("[yellow]stopped by Ctrl-C[/]: saving the best model so far")
    best.meta["validation_accuracy"] = f"{best_accuracy:.4f}"
    best.save(out)
    console.print(f"saved {out} (best validation accuracy {100 * best_accuracy:.2f}%)")


@command()
def evaluate(
    model: ModelOpt = None,
    data_dir: DataOpt = None,
    as_json: JsonOpt = False,
    no_color: NoColorOpt = False,
) -> None:
    """Test accuracy of a model: overall, per digit, and the confusion matrix."""
    import numpy as np

    from fooldigits.data import load_mnist
    from fooldigits.render import bar_chart, confusion_table

    net = _load(model)
    data = load_mnist(data_dir)
    confusion = net.confusion_matrix(data.test_images, data.test_labels)
    per_digit = confusion.diagonal() / np.maximum(confusion.sum(axis=1), 1)
    accuracy = float(confusion.trace() / confusion.sum())
    if as_json:
        _print_json({"accuracy": accuracy, "n": int(confusion.sum()),
                     "command": net.meta.get("command"),
                     "per_digit": {str(d): float(a) for d, a in enumerate(per_digit)},
                     "confusion": confusion.tolist(),
                     "model": str(model or "shipped default"), "sizes": net.sizes})
        return
    console = _console(no_color)
    _show(console,
          f"[bold]test accuracy {100 * accuracy:.2f}%[/] on {int(confusion.sum())} images "
          f"({'-'.join(map(str, net.sizes))} {net.activation}, {net.output} output)",
          f"[dim]made by: {net.meta.get('command', 'unknown')}"
          + (f" (stopped {net.meta['stopped']})" if "stopped" in net.meta else "") + "[/]",
          bar_chart("accuracy per digit", [str(d) for d in range(10)], list(per_digit),
                    fmt="{:.2%}"),
          confusion_table(confusion))


# -- chapter 2: PCA ------------------------------------------------------------------------
def _component_list(text: str) -> list[int]:
    values = []
    for part in text.split(","):
        try:
            values.append(int(part))
        except ValueError:
            raise FoolDigitsError(f"--components takes whole numbers, got {part!r}") from None
        if not 1 <= values[-1] <= 784:
            raise FoolDigitsError(f"--components must be between 1 and 784, got {values[-1]}")
    return values


@command()
def pca(
    components: Annotated[str, typer.Option(
        help="k for the classifiers, or a comma list (e.g. 10,50,200) to compare several "
        "or to rebuild a digit with --reconstruct.")] = "50",
    reconstruct: Annotated[int | None, typer.Option(
        help="Rebuild test image number N from k components, for each k given.")] = None,
    show: Annotated[int, typer.Option(help="How many eigen-digits to draw.")] = 16,
    signed: Annotated[bool, typer.Option(
        help="Draw eigen-digits in a diverging colour map (blue negative, red positive) "
        "instead of rescaled to [0, 1].")] = False,
    neighbours: Annotated[int, typer.Option(help="k of the k-nearest-neighbour classifier.")
                          ] = 3,
    data_dir: DataOpt = None,
    as_json: JsonOpt = False,
    png: PngOpt = None,
    no_color: NoColorOpt = False,
) -> None:
    """Eigen-digits from the 784x784 pixel covariance, explained variance, and how far
    simple PCA classifiers get (nearest class mean, k-nearest neighbours, one subspace
    per digit) compared with the network."""
    import numpy as np

    from fooldigits import pca as pc
    from fooldigits.data import load_mnist
    from fooldigits.render import bar_chart, digit_grid, save_png, signed_scale, unit_scale

    ks = _component_list(components)
    _positive(show, "--show")
    data = load_mnist(data_dir)
    if reconstruct is not None and not 0 <= reconstruct < len(data.test_images):
        raise FoolDigitsError(
            f"--reconstruct must be a test image number 0..{len(data.test_images) - 1}")
    console = _console(no_color, as_json)
    start = time.perf_counter()
    model = pc.PCA(max(max(ks), min(show, 784))).fit(data.train_images)
    fit_seconds = time.perf_counter() - start
    ratio = model.all_variance_ratio_
    if reconstruct is not None:
        original = data.test_images[reconstruct]
        rebuilt = [model.reconstruct(original[None], k)[0] for k in ks]
        if as_json:
            _print_json({"index": reconstruct, "components": ks, "label": int(
                data.test_labels[reconstruct]), "error": [float(np.mean((r - original) ** 2))
                                                          for r in rebuilt]})
            return
        images = np.clip(np.stack([original, *rebuilt]), 0, 1)
        captions = [f"test #{reconstruct} (a {data.test_labels[reconstruct]})",
                    *(f"{k} components" for k in ks)]
        _show(console, digit_grid(images, captions, _blocks(console), width=console.width,
                                  title="a digit rebuilt from k eigen-digits"))
        if png:
            save_png(images, png)
        return
    accuracy: dict[int, dict[str, float]] = {}
    seconds: dict[str, float] = {}
    for k in ks:
        results = pc.compare_classifiers(model, data.train_images, data.train_labels,
                                         data.test_images, data.test_labels, k, neighbours)
        accuracy[k] = {name: acc for name, (acc, _) in results.items()}
        for name, (_, secs) in results.items():
            seconds[name] = seconds.get(name, 0.0) + secs
    network = _load(None).accuracy(data.test_images, data.test_labels) if data_dir is None \
        else None
    eigen = model.components_[:show]
    if png:
        save_png(unit_scale(eigen), png, columns=8)
    if as_json:
        _print_json({"explained_variance_ratio": ratio[: max(ks)].tolist(),
                     "components": ks[0], "accuracy": accuracy[ks[0]],
                     "accuracy_by_components": {str(k): v for k, v in accuracy.items()},
                     "components_for_90": pc.components_for(ratio, 0.9),
                     "components_for_95": pc.components_for(ratio, 0.95),
                     "fit_seconds": round(fit_seconds, 3), "network_accuracy": network})
        return
    grid = digit_grid(signed_scale(eigen) if signed else unit_scale(eigen),
                      [f"eigen-digit {i + 1}" for i in range(len(eigen))], _blocks(console),
                      signed=signed, width=console.width,
                      title=f"the first {len(eigen)} eigen-digits (fitted in {fit_seconds:.1f} s)")
    marks = [1, 2, 5, 10, 20, 50, 100, 200, 400, 784]
    cumulative = np.cumsum(ratio)
    chart = bar_chart("cumulative explained variance", [f"k = {k}" for k in marks],
                      [float(cumulative[k - 1]) for k in marks], "{:.1%}")
    facts = (f"k = 10, 50, 100 explain {cumulative[9]:.1%}, {cumulative[49]:.1%}, "
             f"{cumulative[99]:.1%}; 90% needs k = {pc.components_for(ratio, 0.9)}, "
             f"95% needs k = {pc.components_for(ratio, 0.95)}")
    rows = [(name, *(f"{100 * accuracy[k][name]:.2f}%" for k in ks), f"{seconds[name]:.1f} s")
            for name in accuracy[ks[0]]]
    if network is not None:
        rows.append(("the network (for contrast)", *(f"{100 * network:.2f}%" for _ in ks), "-"))
    _show(console, grid, chart, facts,
          _table("test accuracy of PCA classifiers", ["classifier", *(f"k = {k}" for k in ks),
                                                        "time"], rows))
    if png:
        console.print(f"saved {png}")


# -- chapter 3: dreaming and fooling ------------------------------------------------------
def _digits(digit: int | None) -> list[int]:
    _digit(digit)
    return list(range(10)) if digit is None else [digit]


def _check_reachable(net: Network, digits: list[int], target: float, what: str) -> None:
    """Refuse a target above the confidence ceiling, instead of searching in silence."""
    from fooldigits.ceiling import confidence_ceiling

    ceiling = confidence_ceiling(net)
    out_of_reach = [d for d in digits if ceiling[d] < target]
    if out_of_reach:
        d = out_of_reach[0]
        raise FoolDigitsError(
            f"no image can reach {what} {target} for '{d}' under this model: its confidence "
            f"ceiling is {ceiling[d]:.6f} (see `fooldigits ceiling`); lower the target")


@command()
def dream(
    digit: Annotated[int | None, typer.Option(help="Only this digit; default: all ten.")] = None,
    steps: Annotated[int, typer.Option(help="Most gradient steps per image.")] = 2000,
    lr: Annotated[float, typer.Option(help="Step size on the pixels.")] = 1.0,
    threshold: Annotated[float, typer.Option(help="Confidence that counts as converged.")
                         ] = 0.999,
    prior: Annotated[DreamPrior, typer.Option(
        help="none, l2 (pull to black), tv (total variation: smooth), blur (3x3 box blur).")
    ] = DreamPrior.none,
    prior_weight: Annotated[float, typer.Option(help="Strength of the prior.")] = 0.02,
    invert: Annotated[bool, typer.Option(
        help="Draw the results dark on light, like ink on paper (the network still sees "
        "light on dark).")] = False,
    model: ModelOpt = None,
    seed: SeedOpt = 0,
    as_json: JsonOpt = False,
    png: PngOpt = None,
    no_color: NoColorOpt = False,
) -> None:
    """Dream digits: gradient descent on the input pixels with the weights frozen.

    Starting from noise, each pixel moves against dC/dx until the network is sure. The
    images stay noise to a person. Try --lr 0.01 --steps 100 to see a digit that never
    converges, and --prior tv to ask for smoother images.
    """
    import numpy as np

    from fooldigits.dream import DreamConfig
    from fooldigits.dream import dream as dream_images

    config = DreamConfig(steps, lr, threshold, prior.value, prior_weight)
    config.check()
    net = _load(model)
    digits = _digits(digit)
    _check_reachable(net, digits, threshold, "--threshold")
    result = dream_images(net, np.array(digits), config, np.random.default_rng(seed))
    if as_json:
        _print_json({"digits": [
            {"digit": int(d), "confidence": float(c), "steps": int(n), "converged": bool(v)}
            for d, c, n, v in zip(result.digits, result.confidence, result.steps,
                                  result.converged, strict=True)],
            "lr": lr, "threshold": threshold, "prior": prior.value})
        return
    from fooldigits.render import digit_grid, save_png, table

    console = _console(no_color)
    shown = 1 - result.images if invert else result.images
    captions = [f"{d}: {100 * c:.3f}%" for d, c in zip(result.digits, result.confidence,
                                                        strict=True)]
    rows = [(str(d), f"{100 * c:.4f}%", int(n), "yes" if v else "NO - did not converge")
            for d, c, n, v in zip(result.digits, result.confidence, result.steps,
                                  result.converged, strict=True)]
    stuck = [str(d) for d, v in zip(result.digits, result.converged, strict=True) if not v]
    verdict = (f"[bold red]{', '.join(stuck)} did not reach {threshold} in {steps} steps[/]"
               if stuck else f"[green]every digit reached {threshold}[/]")
    _show(console, digit_grid(shown, captions, _blocks(console), width=console.width,
                              title=f"dreamed digits (lr {lr}, prior {prior})"),
          table("confidence per digit", ["digit", "confidence", "steps", "converged"], rows),
          verdict)
    if png:
        save_png(shown, png)
        console.print(f"saved {png}")


@command()
def fool(
    digit: Annotated[int | None, typer.Option(help="The digit to fake (0-9).")] = None,
    all_digits: Annotated[bool, typer.Option("--all", help="Every digit 0-9.")] = False,
    count: Annotated[int, typer.Option(help="Fooling images per digit.")] = 1,
    mean: Annotated[bool, typer.Option(
        help="Show the mean of the fooling images beside the mean real digit.")] = False,
    target: Annotated[float, typer.Option(help="Stop a run at this confidence.")] = 0.9999,
    max_generations: Annotated[int, typer.Option(help="Give up a run after this many.")
                               ] = 2000,
    population: Annotated[int, typer.Option(help="Images per generation.")] = 80,
    parents: Annotated[int, typer.Option(help="The best this many breed.")] = 16,
    elite: Annotated[int, typer.Option(help="The best this many survive unchanged.")] = 2,
    mutation_rate: Annotated[float, typer.Option(
        help="Chance that a child's pixel is redrawn.")] = 0.005,
    slots: Annotated[int, typer.Option(help="Runs evolved side by side in one array.")] = 20,
    prior: Annotated[FoolPrior, typer.Option(
        help="none (uniform noise), stats (training histogram + neighbour statistics), "
        "local (location-aware statistics of the digit).")] = FoolPrior.none,
    prior_weight: Annotated[float, typer.Option(help="Weight of the prior's cost.")] = 1.0,
    min_generations: Annotated[int | None, typer.Option(
        help="Evolve at least this long, so a prior can shape the images; default 0 "
        "without a prior, 50 with one.")] = None,
    lags: Annotated[int, typer.Option(help="Neighbour distances in the statistics prior.")
                    ] = 4,
    bins: Annotated[int, typer.Option(help="Histogram bins of the statistics prior.")] = 16,
    model: ModelOpt = None,
    data_dir: DataOpt = None,
    seed: SeedOpt = 0,
    out: Annotated[Path | None, typer.Option(
        help="Save the images (.npz: images, digit, confidences, generations).")] = None,
    as_json: JsonOpt = False,
    png: PngOpt = None,
    no_color: NoColorOpt = False,
) -> None:
    """Evolve noise the network is sure is a digit (Nguyen, Yosinski & Clune 2015).

    A genetic algorithm breeds random images by uniform crossover and mutation, keeping
    whatever the network is most confident about. A single run is shown live. Try
    --count 1000 --mean to see what the network "wants" a 2 to look like.
    """
    import numpy as np

    from fooldigits.evolve import FoolResult, GAConfig, evolve
    from fooldigits.stats import make_prior

    if digit is None and not all_digits:
        raise FoolDigitsError("say which digit to fake with --digit N, or use --all")
    _positive(count, "--count")
    digits = _digits(None if all_digits else digit)
    if min_generations is None:
        min_generations = 0 if prior == "none" else min(50, max_generations)
    config = GAConfig(population, elite, parents, mutation_rate, target, max_generations,
                      slots, prior_weight, min_generations)
    config.check()
    net = _load(model)
    _check_reachable(net, digits, target, "--target")
    console = _console(no_color, as_json)
    rng = np.random.default_rng(seed)
    results: list[FoolResult] = []
    from fooldigits.render import live_view

    with live_view(console) as live:
        for d in digits:
            events = evolve(net, d, count, config, rng,
                            make_prior(prior.value, d, data_dir, lags, bins))
            last = 0.0
            for event in events:
                if isinstance(event, FoolResult):
                    results.append(event)
                else:
                    last = _draw_generation(live, event, _blocks(console), last)
    _fool_report(console, results, net, prior.value, mean, data_dir, as_json, png, out)


def _fool_report(console: Console, results: list[Any], net: Network, prior: str, mean: bool,
                 data_dir: Path | None, as_json: bool, png: Path | None, out: Path | None
                 ) -> None:
    import numpy as np

    from fooldigits.data import atomic_write
    from fooldigits.render import digit_grid, save_png, table

    images = np.concatenate([r.images for r in results])  # (n, 784)
    labels = np.concatenate([np.full(len(r.images), r.digit) for r in results])
    if out:
        arrays: dict[str, Any] = {"images": images.reshape(-1, 28, 28), "digit": labels,
                  "confidences": np.concatenate([r.confidences for r in results]),
                  "generations": np.concatenate([r.generations for r in results])}
        atomic_write(out, lambda f: np.savez(f, **arrays))
    naturalness = _naturalness(results, data_dir) if prior != "none" or as_json else None
    if as_json:
        payload = [{"digit": r.digit, "count": len(r.images), "target": r.target,
                    "confidences": [float(c) for c in r.confidences],
                    "generations": [int(g) for g in r.generations],
                    "reached": int(r.reached.sum()), "seconds": round(r.seconds, 3),
                    "prior": prior, **({"naturalness": naturalness[i]} if naturalness else {})}
                   for i, r in enumerate(results)]
        _print_json(payload[0] if len(payload) == 1 else {"results": payload})
        return
    shown = images[:: max(1, len(images) // 20)][:20]
    shown_labels = labels[:: max(1, len(images) // 20)][:20]
    confidences = net.probabilities(shown)[np.arange(len(shown)), shown_labels]
    captions = [f"'{d}' {100 * c:.3f}%" for d, c in zip(shown_labels, confidences, strict=True)]
    parts: list[Any] = [digit_grid(shown, captions, _blocks(console), width=console.width,
                                   title="images the network is sure about")]
    rows = [(f"'{r.digit}'", len(r.images), f"{int(r.reached.sum())}/{len(r.images)}",
             int(np.median(r.generations)), int(r.generations.max()), f"{r.seconds:.2f} s")
            for r in results]
    parts.append(table(f"fooling runs (target {results[0].target})",
                       ["digit", "runs", "reached", "median gen.", "max gen.", "time"], rows))
    means = None
    if mean:
        from fooldigits.data import load_mnist

        data = load_mnist(data_dir)
        means = np.stack([m for r in results for m in (
            r.images.mean(axis=0), data.train_images[data.train_labels == r.digit].mean(axis=0))])
        captions = [c for r in results for c in (f"mean of {len(r.images)} fooling '{r.digit}'",
                                                f"mean real '{r.digit}'")]
        parts.append(digit_grid(means, captions, _blocks(console), width=console.width,
                                title="what the network wants vs what people write"))
    if naturalness:
        parts.append(table("naturalness (lower distance, higher correlation = more natural)",
                           ["digit", "statistics distance", "mean-image correlation"],
                           [(f"'{r.digit}'", n["distance"], n["correlation"])
                            for r, n in zip(results, naturalness, strict=True)]))
    _show(console, *parts)
    if png:
        save_png(np.concatenate([means, shown]) if means is not None else shown, png)
        console.print(f"saved {png}")
    if out:
        console.print(f"saved {len(images)} images to {out}")


def _naturalness(results: list[Any], data_dir: Path | None) -> list[dict[str, float]]:
    from fooldigits import stats

    return [stats.naturalness(r.images, r.digit, data_dir) for r in results]


@command()
def ceiling(
    model: ModelOpt = None,
    as_json: JsonOpt = False,
    no_color: NoColorOpt = False,
) -> None:
    """How sure can the network ever be? An upper bound per digit, over every image.

    Interval bound propagation pushes the box [0, 1]^784 through the layers; the bound
    is shown beside the best confidence that dreaming actually finds. Strong L2
    regularisation caps the ceiling: no search can beat it.
    """
    import numpy as np

    from fooldigits.ceiling import best_found, confidence_ceiling

    net = _load(model)
    bound = confidence_ceiling(net)
    found = best_found(net, np.random.default_rng(0))
    if as_json:
        _print_json({"ceiling": [float(b) for b in bound], "found": [float(f) for f in found],
                     "above_99_99": [bool(b > 0.9999) for b in bound]})
        return
    console = _console(no_color)
    rows = [(f"'{d}'", f"{b:.8f}", f"{f:.8f}", "yes" if b > 0.9999 else "NO")
            for d, (b, f) in enumerate(zip(bound, found, strict=True))]
    _show(console, _table("confidence ceiling per digit",
                            ["digit", "ceiling (upper bound)", "found by dreaming",
                             "99.99% possible?"], rows),
          "The true maximum lies between what dreaming found and the ceiling.")


def _table(title: str, columns: list[str], rows: Sequence[Sequence[object]]) -> Any:
    from fooldigits.render import table

    return table(title, columns, rows)


@command()
def transfer(
    models: Annotated[list[Path] | None, typer.Option(
        "--models", help="Networks to compare (repeat); default: the shipped model and three "
        "trained now (784-30-10, 784-100-10 with another seed, 784-100-100-10).")] = None,
    count: Annotated[int, typer.Option(help="Fooling images per digit per network.")] = 2,
    target: Annotated[float, typer.Option(help="Confidence each fooling run stops at.")
                      ] = 0.99,
    epochs: Annotated[int, typer.Option(help="Epochs for the networks trained here.")] = 3,
    seed: SeedOpt = 0,
    data_dir: DataOpt = None,
    as_json: JsonOpt = False,
    no_color: NoColorOpt = False,
) -> None:
    """Do fooling images made for one network fool the others?

    Images are evolved against each network (rows) and shown to every network
    (columns): mean confidence in the intended digit, and the share above 99%.
    """
    import numpy as np

    from fooldigits.data import load_mnist
    from fooldigits.evolve import GAConfig, evolve, run_to_end, transfer_matrix
    from fooldigits.network import SHIPPED_RECIPE, Network, sgd
    from fooldigits.render import progress_bar

    _positive(count, "--count")
    _positive(epochs, "--epochs")
    console = _console(no_color, as_json)
    rng = np.random.default_rng(seed)
    nets: list[Network] = []
    names: list[str] = []
    with progress_bar(console) as bar:
        if models:
            for path in models:
                nets.append(_load(path))
                names.append(path.name)
        else:
            nets.append(_load(None))
            names.append("shipped 784-100-10")
            data = load_mnist(data_dir)
            task = bar.add_task("training", total=3 * epochs, info="")
            for sizes, s in (([784, 30, 10], 2), ([784, 100, 10], 3), ([784, 100, 100, 10], 4)):
                net_rng = np.random.default_rng(seed + s)
                net = Network(sizes, rng=net_rng)
                sgd_config = replace(SHIPPED_RECIPE, epochs=epochs)
                for event in sgd(net, data.train_images, data.train_labels, sgd_config,
                                 net_rng):
                    if not hasattr(event, "batch"):
                        bar.advance(task)
                nets.append(net)
                names.append(f"{'-'.join(map(str, sizes))} seed {s}")
        config = GAConfig(target=target)
        task = bar.add_task("fooling", total=len(nets) * 10, info="")
        images, digits, reached = [], [], []
        for net in nets:
            runs = []
            for d in range(10):
                runs.append(run_to_end(evolve(net, d, count, config, rng)))
                bar.advance(task)
            images.append(np.concatenate([r.images for r in runs]))
            digits.append(np.repeat(np.arange(10), count))
            reached.append(int(sum(r.reached.sum() for r in runs)))
    mean_conf, share = transfer_matrix(nets, images, digits)
    if as_json:
        _print_json({"networks": names, "mean_confidence": mean_conf.tolist(),
                     "share_sure": share.tolist(), "count_per_digit": count, "target": target,
                     "reached": reached})
        return
    rows = [(f"fooled {names[i]}", *(f"{100 * mean_conf[i, j]:.1f}% / {100 * share[i, j]:.0f}%"
                                     for j in range(len(nets)))) for i in range(len(nets))]
    _show(console, _table("mean confidence / share >= 99% under each network (columns)",
                            ["images evolved against", *names], rows),
          "The diagonal is the network each image was bred for; off the diagonal is transfer.",
          "Runs that reached the target: " + ", ".join(
              f"{name} {n}/{10 * count}" for name, n in zip(names, reached, strict=True))
          + " (a run that misses it keeps its best image).")


# -- chapter 5: your own drawings -----------------------------------------------------------
@command()
def classify(
    files: Annotated[list[Path], typer.Argument(
        help="PNG, JPEG, BMP or GIF drawings, .txt grids of '#' and '.', or .npz files of "
        "28x28 images (from `fooldigits fool --out`).", show_default=False)],
    raw: Annotated[bool, typer.Option(
        help="Skip MNIST's normalisation: just shrink the whole canvas to 28x28, as the "
        "original experiment did.")] = False,
    model: ModelOpt = None,
    as_json: JsonOpt = False,
    no_color: NoColorOpt = False,
) -> None:
    """Classify your own images: the 28x28 the network sees, its confidence per digit.

    Drawings are prepared the way MNIST was (crop, scale to 20 px, centre of mass in the
    middle); dark ink on white paper is inverted. A missing or unreadable file is
    reported, the rest are classified, and the exit code is 1.
    """
    import numpy as np

    from fooldigits import drawings
    from fooldigits.render import digit_art, probability_bars

    net = _load(model)
    console = _console(no_color, as_json)
    names: list[str] = []
    inputs: list[np.ndarray] = []
    failed: list[str] = []
    for path in files:
        try:
            if path.suffix.lower() == ".npz":
                batch = drawings.load_npz_images(path)
                names += [f"{path}[{i}]" for i in range(len(batch))]
                inputs += list(batch)
            else:
                inputs.append(drawings.normalise(drawings.load_image(path), raw, str(path)))
                names.append(str(path))
        except FoolDigitsError as err:
            failed.append(str(err))
    if inputs:
        probabilities = net.probabilities(np.stack(inputs))
        if as_json:
            _print_json([{"file": name, "digit": int(np.argmax(p)),
                          "confidence": float(np.max(p)),
                          "probabilities": [float(v) for v in p]}
                         for name, p in zip(names, probabilities, strict=True)])
        else:
            from rich.columns import Columns

            for name, image, p in zip(names, inputs, probabilities, strict=True):
                verdict = (f"[bold]{name}[/]: the network says [bold green]{int(np.argmax(p))}"
                           f"[/] with {100 * float(np.max(p)):.3f}% confidence")
                _show(console, verdict, Columns([digit_art(image, _blocks(console)),
                                                 probability_bars(p)], padding=(0, 4)))
    for message in failed:
        typer.echo(f"[error] {message}", err=True)
    if failed:
        raise typer.Exit(1)


@command()
def draw(
    load: Annotated[Path | None, typer.Option(
        help="Start from this picture: anything `classify` reads (PNG, JPEG, BMP, GIF, "
        ".txt grid, .npz).")] = None,
    model: ModelOpt = None,
    game: Annotated[bool, typer.Option(
        "--game", help="Beat the network: three challenges, scored and timed.")] = False,
    out: Annotated[Path | None, typer.Option(
        help="Where s saves the drawing (a PNG that `classify` reads); default: "
        "drawing-1.png, drawing-2.png, ... in this folder.")] = None,
    json_path: Annotated[Path | None, typer.Option(
        "--json", help="With --game: write the scores to this JSON file.")] = None,
    seed: SeedOpt = 0,
    no_color: NoColorOpt = False,
) -> None:
    """Draw a digit in the terminal and watch the network read it, stroke by stroke.

    Mouse: drag to draw, the right button erases.

    Keys: arrows or hjkl move, space lifts or lowers the pen, x eraser, +/- brush,
    u undo, c clear, n swaps the views, s saves a PNG, q or Esc quits.
    """
    from fooldigits import drawpad

    net = _load(model)
    console = _console(no_color)
    pad = drawpad.run(net, load, out, game, json_path, seed, _blocks(console))
    for line in drawpad.report(pad, seed, str(model or "shipped"), json_path):
        console.print(line)


@command()
def border(
    count: Annotated[int, typer.Option(help="How many test images (default: all 10,000).")
                     ] = 10_000,
    show: Annotated[int, typer.Option(help="Example pairs to draw.")] = 4,
    model: ModelOpt = None,
    data_dir: DataOpt = None,
    as_json: JsonOpt = False,
    no_color: NoColorOpt = False,
) -> None:
    """Stretch every test digit to the edges of its 28x28 box and classify again.

    The border pixels were dark in every training image, so the weights from them never
    learned anything; a digit that reaches them confuses the network.
    """
    import numpy as np

    from fooldigits.data import load_mnist
    from fooldigits.drawings import border_images
    from fooldigits.render import digit_grid

    _positive(count, "--count")
    if show < 0:
        raise FoolDigitsError(f"--show must be 0 or more, got {show}")
    net = _load(model)
    data = load_mnist(data_dir)
    x, y = data.test_images[:count], data.test_labels[:count]
    stretched = border_images(x)
    rows = []
    report = {}
    for name, images in (("as in MNIST (20 px box, centred)", x), ("stretched to the edges",
                                                                   stretched)):
        accuracy, confidence = net.score(images, y)
        report["original" if images is x else "border"] = {"accuracy": accuracy,
                                                           "mean_confidence": confidence}
        rows.append((name, f"{100 * accuracy:.2f}%", f"{100 * confidence:.2f}%"))
    if as_json:
        _print_json({"n": len(y), **report})
        return
    console = _console(no_color)
    k = min(show, len(x))
    pairs = np.stack([im for i in range(k) for im in (x[i], stretched[i])]) if k else None
    parts: list[Any] = []
    if pairs is not None:
        predicted = net.predict(pairs)
        captions = [f"{'normal' if j % 2 == 0 else 'edge'}: says {predicted[j]}" for j in
                    range(2 * k)]
        parts.append(digit_grid(pairs, captions, _blocks(console), width=console.width))
    _show(console, *parts,
          _table(f"{len(y)} test digits", ["framing", "accuracy", "mean confidence"], rows))


@command()
def scramble(
    levels: Annotated[str, typer.Option(
        help="Shares of background pixels replaced by uniform noise, comma-separated.")
    ] = "0,0.1,0.3,0.5",
    count: Annotated[int, typer.Option(help="How many test images.")] = 10_000,
    model: ModelOpt = None,
    data_dir: DataOpt = None,
    seed: SeedOpt = 0,
    as_json: JsonOpt = False,
    no_color: NoColorOpt = False,
) -> None:
    """Fill the background of test digits with noise and watch accuracy and confidence.

    The digit itself is untouched; a person still reads it. The network's accuracy falls
    much faster than its confidence does.
    """
    import numpy as np

    from fooldigits.data import load_mnist
    from fooldigits.drawings import scramble_background
    from fooldigits.render import digit_grid

    try:
        values = [float(v) for v in levels.split(",")]
    except ValueError:
        raise FoolDigitsError(f"--levels takes numbers like 0,0.1,0.3, got {levels!r}") from None
    _positive(count, "--count")
    net = _load(model)
    data = load_mnist(data_dir)
    x, y = data.test_images[:count], data.test_labels[:count]
    rng = np.random.default_rng(seed)
    results, examples = [], []
    for level in values:
        noisy = scramble_background(x, level, rng)
        accuracy, confidence = net.score(noisy, y)
        results.append({"level": level, "accuracy": accuracy, "mean_confidence": confidence})
        examples.append(noisy[:4])
    if as_json:
        _print_json({"n": len(y), "levels": results})
        return
    console = _console(no_color)
    grids = [digit_grid(e, [f"noise {r['level']:.0%}: says {d}" for d in net.predict(e)],
                        _blocks(console), width=console.width)
             for e, r in zip(examples, results, strict=True)]
    _show(console, *grids, _table(f"background noise on {len(y)} test digits",
                                    ["noise level", "accuracy", "mean confidence"],
                                    [(f"{r['level']:.0%}", f"{100 * r['accuracy']:.2f}%",
                                      f"{100 * r['mean_confidence']:.2f}%") for r in results]))


# -- chapter 4: a natural-image prior ------------------------------------------------------
@command()
def stats(
    digit: Annotated[int | None, typer.Option(help="Statistics of one digit; default: all.")
                     ] = None,
    lags: Annotated[int, typer.Option(help="Neighbour distances 1..lags.")] = 4,
    bins: Annotated[int, typer.Option(help="Histogram bins on (0, 1] (0 has its own).")] = 16,
    data_dir: DataOpt = None,
    as_json: JsonOpt = False,
    no_color: NoColorOpt = False,
) -> None:
    """The statistics of real digits: pixel histogram and g_x / g_y variograms.

    g_x(l) is the mean |difference| between pixels l apart along a row, g_y along a
    column. Uniform noise has g = 1/3 at every lag; real digits are smooth nearby.
    """
    from fooldigits import stats as st
    from fooldigits.render import bar_chart

    _digit(digit)
    real = st.real_digits(digit, data_dir)
    ref = st.reference(real, lags, bins)
    if as_json:
        _print_json({"digit": digit, "bin_edges": ref.edges.tolist(),
                     "histogram": ref.probabilities.tolist(), "g_x": ref.g_x.tolist(),
                     "g_y": ref.g_y.tolist(), "images": len(real)})
        return
    console = _console(no_color)
    labels = ["exactly 0"] + [f"{a:.3f}-{b:.3f}" for a, b in zip(ref.edges[:-1], ref.edges[1:],
                                                                   strict=True)]
    which = "all digits" if digit is None else f"real '{digit}'s"
    _show(console,
          bar_chart(f"pixel histogram of {len(real)} {which}", labels,
                    list(ref.probabilities), "{:.2%}"),
          bar_chart("g_x: mean |difference| along rows, by lag", [f"lag {i}" for i in
                    range(1, lags + 1)], list(ref.g_x)),
          bar_chart("g_y: mean |difference| along columns, by lag", [f"lag {i}" for i in
                    range(1, lags + 1)], list(ref.g_y)),
          "For uniform noise every lag would be 0.333: real digits are smooth nearby.")


@command()
def compare(
    digit: Annotated[int, typer.Option(help="The digit to fake.")] = 2,
    count: Annotated[int, typer.Option(help="Fooling images per method.")] = 100,
    target: Annotated[float, typer.Option(help="Confidence a run must reach.")] = 0.9999,
    min_generations: Annotated[int, typer.Option(
        help="Generations the priors get to shape the images.")] = 50,
    model: ModelOpt = None,
    data_dir: DataOpt = None,
    seed: SeedOpt = 0,
    as_json: JsonOpt = False,
    no_color: NoColorOpt = False,
) -> None:
    """Plain GA vs statistics prior vs location-aware prior vs real digits, side by side.

    For each method: how many runs reached the target, generations, time, and how
    natural the images are (statistics distance to real digits, and the correlation of
    the mean image with the real mean digit).
    """
    import numpy as np

    from fooldigits import stats as st
    from fooldigits.render import digit_grid, progress_bar

    _digit(digit)
    _positive(count, "--count")
    net = _load(model)
    _check_reachable(net, [digit], target, "--target")
    console = _console(no_color, as_json)
    runs = []
    with progress_bar(console) as bar:
        task = bar.add_task("comparing priors", total=4, info="")
        for run in st.compare_priors(net, digit, count, np.random.default_rng(seed), target,
                                     min_generations, data_dir):
            runs.append(run)
            bar.advance(task)
    report = [{"method": r.method, "reached": r.reached,
               "median_generations": r.median_generations, "seconds": round(r.seconds, 3),
               "naturalness": r.naturalness} for r in runs]
    means = [r.mean_image for r in runs]
    if as_json:
        _print_json({"digit": digit, "count": count, "target": target, "methods": report})
        return
    rows = [(r.method, f"{100 * r.reached:.0f}%", int(r.median_generations),
             f"{r.seconds:.1f} s", r.naturalness["distance"], r.naturalness["correlation"])
            for r in runs]
    _show(console, _table(f"fooling '{digit}' at {target}: {count} images per method",
                            ["method", "reached", "median gen.", "time", "stats distance",
                             "mean correlation"], rows),
          digit_grid(np.stack(means), [f"mean: {r.method}" for r in runs],
                     _blocks(console), width=console.width,
                     title="mean images: plain GA, stats prior, local prior, real digits"))


# -- the tutor, the docs and the exercises -------------------------------------------------
@command()
def tutor(
    chapter: Annotated[str | None, typer.Option(
        help="Start at this chapter: data, network, pca, dream, fool, drawings, prior, "
        "meaning.")] = None,
    no_pause: Annotated[bool, typer.Option(
        help="Run straight through without waiting for keys (automatic when not on a "
        "terminal).")] = False,
    quick: Annotated[bool, typer.Option(help="Smaller computations, for a fast look.")
                     ] = False,
    seed: SeedOpt = 0,
    no_color: NoColorOpt = False,
) -> None:
    """The whole story, chapter by chapter, computed live on the bundled data.

    Keys between chapters: Enter or space for the next, b to go back, r to run the
    chapter again with a new seed, q to stop.
    """
    import numpy as np

    from fooldigits import tutor as story
    from fooldigits.evolve import Generation
    from fooldigits.network import BatchDone
    from fooldigits.render import chapter_heading, live_view, piece, read_key, training

    index = story.chapter(chapter) if chapter else 0
    interactive = not no_pause and sys.stdin.isatty() and sys.stdout.isatty()
    sizes = story.Sizes.quick() if quick else story.Sizes.full()
    console = _console(no_color)
    blocks = _blocks(console)
    reruns = 0
    while index < len(story.CHAPTERS):
        current = story.CHAPTERS[index]
        console.print(chapter_heading(current.title, current.text))
        rng = np.random.default_rng([seed, index, reruns])
        last = 0.0
        with live_view(console) as live:
            for item in current.run(rng, sizes):
                if isinstance(item, BatchDone):
                    live.update(training(item.epoch, item.batch, item.batches))
                elif isinstance(item, Generation):
                    last = _draw_generation(live, item, blocks, last)
                else:
                    live.console.print(piece(item, blocks, console.width))
        console.print(f"[dim]{current.footer}[/]\n")
        if not interactive:
            index += 1
            continue
        console.print("[dim]Enter: next · b: back · r: again with a new seed · q: quit[/]")
        key = read_key().lower()
        if key == "q":
            break
        if key == "b":
            index = max(0, index - 1)
        elif key == "r":
            reruns += 1
        else:
            index += 1
    console.print("[bold]The end.[/] Every chapter is a command too: try "
                  "`fooldigits --help`, and `fooldigits exercise list` for the exercises.")


@command()
def read(
    topic: Annotated[str | None, typer.Argument(
        help="A docs chapter: data, network, pca, dream, evolve, ... (none: list them).")
    ] = None,
    pager: Annotated[bool, typer.Option(help="Page the output (q to leave).")] = False,
    no_color: NoColorOpt = False,
) -> None:
    """A docs chapter beside the code it explains (stacked on narrow terminals)."""
    import inspect

    from fooldigits import tutor as story
    from fooldigits.render import code, markdown, side_by_side

    console = _console(no_color)
    known = story.topics()
    if topic is None:
        rows = [(name, (story.docs_dir() / f"{name}.md").read_text().splitlines()[0]
                 .lstrip("# ")) for name in known]
        _show(console, _table("docs chapters: fooldigits read TOPIC", ["topic", "title"],
                                rows))
        return
    if topic not in known:
        raise FoolDigitsError(f"unknown topic {topic!r}; topics: {', '.join(known)}")
    text = (story.docs_dir() / f"{topic}.md").read_text()
    sources = []
    for name in story.references(text):
        obj = story.resolve(name)
        try:
            sources.append(code(inspect.getsource(obj), name))  # type: ignore[arg-type]
        except (TypeError, OSError):
            continue
    view = side_by_side(markdown(text), _group(sources), console.width)
    if pager:
        with console.pager(styles=True):
            console.print(view)
    else:
        console.print(view)


def _group(items: list[Any]) -> Any:
    from rich.console import Group

    return Group(*items)


exercise_app = typer.Typer(help="Classroom exercises that check themselves: list, start, "
                           "check.", no_args_is_help=True)
app.add_typer(exercise_app, name="exercise")


@command("list", target=exercise_app)
def exercise_list(no_color: NoColorOpt = False) -> None:
    """The exercises, one per core idea."""
    from fooldigits import exercises

    rows = [(e.name, e.title, e.teaches) for e in exercises.EXERCISES.values()]
    _show(_console(no_color), _table("exercises: fooldigits exercise start NAME DIR",
                                       ["name", "what you write", "the project's version"],
                                       rows))


@command("start", target=exercise_app)
def exercise_start(
    name: Annotated[str, typer.Argument(help="The exercise, e.g. backprop.")],
    directory: Annotated[Path, typer.Argument(help="Your work folder.")] = Path("."),
    force: Annotated[bool, typer.Option(help="Overwrite an existing file.")] = False,
) -> None:
    """Copy an exercise's stub into your folder, ready to fill in."""
    from fooldigits import exercises

    target = exercises.start(name, directory, force)
    typer.echo(f"wrote {target}: fill in the functions, then run "
               f"`fooldigits exercise check {name} {directory}`")


@command("check", target=exercise_app)
def exercise_check(
    name: Annotated[str, typer.Argument(help="The exercise, e.g. backprop.")],
    directory: Annotated[Path, typer.Argument(help="Your work folder.")] = Path("."),
    as_json: JsonOpt = False,
    no_color: NoColorOpt = False,
) -> None:
    """Check your solution: which case fails, expected against got; exit 0 if all pass."""
    from fooldigits import exercises

    results = exercises.check(name, directory)
    passed = all(r.passed for r in results)
    if as_json:
        _print_json({"exercise": name, "passed": passed, "checks": [
            {"name": r.name, "passed": r.passed, "message": r.message} for r in results]})
    else:
        console = _console(no_color)
        for r in results:
            mark = "[green]PASS[/]" if r.passed else "[red]FAIL[/]"
            console.print(f"{mark} {r.name}" + ("" if r.passed else f": {r.message}"))
        console.print("[bold green]all checks pass[/]" if passed else
                      f"[bold red]{sum(not r.passed for r in results)} of {len(results)} "
                      "checks fail[/]")
    if not passed:
        raise typer.Exit(1)


def main() -> None:
    """Entry point of the `fooldigits` console script."""
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
