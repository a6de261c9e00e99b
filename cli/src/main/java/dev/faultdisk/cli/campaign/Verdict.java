package dev.faultdisk.cli.campaign;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A run's outcome and the notes that explain it. The check command names the class of what it
 * saw; what only the runner sees amends it: a step that failed, a check or workload that timed
 * out, a node that crashed, hung or did not start, a fault that never fired.
 *
 * @param outcome the run's class
 * @param notes   why, for people; empty when the check's word says it all
 */
record Verdict(Outcome outcome, String notes) {

    /**
     * What a run left behind.
     *
     * @param failure  why a step of the campaign failed, or null
     * @param check    the check's result, or null if it never ran
     * @param workload the workload's result, or null if it never ran
     * @param ends     how each node ended (stopped, crashed, hung)
     * @param notUp    nodes that did not start, with why
     * @param fired    faults the journal recorded in the run
     */
    record Evidence(
            String failure,
            Shell.Result check,
            Shell.Result workload,
            Map<String, NodeProcess.End> ends,
            List<String> notUp,
            long fired) {}

    static Verdict of(Evidence e, CampaignSpec.Timeouts timeouts) {
        List<String> notes = new ArrayList<>();
        Outcome o;
        if (e.failure() != null) {
            o = Outcome.CAMPAIGN_ERROR;
            notes.add(e.failure());
        } else if (e.check() == null || e.check().timedOut()) {
            o = Outcome.UNAVAILABLE;
            notes.add("the check timed out after " + timeouts.check().toSeconds() + " s");
        } else {
            String word = e.check().output().isBlank() ? "" : e.check().lastWord();
            o = Outcome.byName(word).orElse(Outcome.CAMPAIGN_ERROR);
            if (o == Outcome.CAMPAIGN_ERROR) {
                notes.add("the check printed no outcome ('" + word + "')");
            }
        }
        if (e.workload() != null && e.workload().timedOut()) {
            notes.add("the workload timed out");
            o = o.worse(Outcome.UNAVAILABLE);
        }
        List<String> crashed = new ArrayList<>();
        e.ends().forEach((name, end) -> {
            if (end.crashed()) {
                crashed.add(name + " exited " + end.exit());
            }
            if (end.hung()) {
                crashed.add(name + " hung (killed after " + timeouts.stop().toSeconds() + " s)");
            }
        });
        for (String n : e.notUp()) {
            crashed.add(n + " did not start");
        }
        if (!crashed.isEmpty()) {
            notes.add(String.join(", ", crashed));
            if (o == Outcome.CORRECT || o == Outcome.REDUCED_REDUNDANCY) {
                o = Outcome.NODE_CRASHED;
            }
        }
        if (e.fired() == 0 && o != Outcome.CAMPAIGN_ERROR) {
            if (o == Outcome.CORRECT) {
                o = Outcome.NOT_HIT;
            } else {
                notes.add("the fault never fired: this outcome came without it");
            }
        }
        return new Verdict(o, String.join("; ", notes));
    }
}
