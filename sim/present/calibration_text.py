"""What ``bordersim calibrate`` prints when a calibration finishes: the fitted values, the fit table, and
what was written."""

from __future__ import annotations

from sim.present import terminal
from sim.present.fit_text import identifiability_warnings, parameter_lines, table_lines
from sim.studies.calibration import CalibrationResult


def print_calibration(result: CalibrationResult) -> None:
    """The fitted parameters and table (a fit), or the scale and its error (the scale alone)."""
    if result.fit is not None:
        fit = result.fit
        for line in parameter_lines(fit):
            terminal.say(line)
        terminal.say(f"annual value: {fit.annual}")
        warnings = (
            identifiability_warnings(fit.ident)
            if fit.ident
            else ["no Jacobian computed: raise --max-evaluations"]
        )
        for warning in warnings:
            terminal.warning(f"not identified: {warning}")
        terminal.say(f"fit table ({fit.final_replications} replications, 95% CI):")
        assert fit.table is not None
        for line in table_lines(fit.table):
            terminal.say(line)
        missed = [r["figure"] for _, r in fit.table.iterrows() if not r["within_range"]]
        if missed:
            terminal.note(f"outside its reported range: {'; '.join(missed)}")
        terminal.say(
            f"{len(fit.points)} evaluations in {fit.seconds / 60:.1f} min ({fit.stopped}); "
            f"wrote {result.file} and {fit.folder}"
        )
        return
    cal = result.scale
    assert cal is not None
    for text in result.notes:
        terminal.note(text)
    final = cal.final
    terminal.say(
        f"scale {cal.scale:.6f}: cleared USD {final.mean:,.0f} +- {final.half_width():,.0f} (95% CI), "
        f"error {cal.error:+.3%} after {len(cal.evaluations)} evaluations; wrote {result.file}"
    )
