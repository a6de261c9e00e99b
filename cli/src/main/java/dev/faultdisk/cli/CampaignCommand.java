package dev.faultdisk.cli;

import dev.faultdisk.cli.campaign.CampaignParser;
import dev.faultdisk.cli.campaign.CampaignParser.CampaignException;
import dev.faultdisk.cli.campaign.CampaignRunner;
import dev.faultdisk.cli.campaign.CampaignSpec;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code faultdisk campaign FILE.json}: one fault per run across a cluster's disks (docs/CAMPAIGNS.md). */
@Command(
        name = "campaign",
        mixinStandardHelpOptions = true,
        description = {
            "Runs a fault campaign: setup and a snapshot of every node's disk, a trace run without faults, then one"
                    + " run per (node, file or structure, fault kind) from the reverted disks, classified by the"
                    + " campaign's check; writes report.json and report.html. Resumes an interrupted campaign."
        },
        footer = {
            "  faultdisk campaign docs/campaigns/etcd-3.json --check",
            "  faultdisk campaign docs/campaigns/etcd-3.json",
            "  faultdisk campaign docs/campaigns/etcd-3.json --rerun n1-data_member_snap_db-read-error"
        })
final class CampaignCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "FILE.json", description = "the campaign file")
    Path file;

    @Option(names = "--workdir", paramLabel = "DIR", description = "where runs and the report go (default: the file's)")
    Path workdir;

    @Option(names = "--rerun", paramLabel = "RUN", description = "repeat exactly one run (its id from the report)")
    String rerun;

    @Option(names = "--max-runs", paramLabel = "N", description = "stop after N new runs (0: all)")
    int maxRuns;

    @Option(names = "--fresh", description = "trace again and run every run, ignoring earlier results")
    boolean fresh;

    @Option(
            names = "--parallel",
            paramLabel = "N|auto",
            defaultValue = "1",
            description =
                    "runs at once, each in a slot of its own (clones of the exports, own mounts and network namespace;"
                            + " docs/CAMPAIGNS.md#parallel-runs); auto: from this machine's cores and memory (default 1)")
    String parallel;

    @Option(names = "--check", description = "only check the campaign file and exit")
    boolean checkOnly;

    @Override
    public Integer call() {
        CampaignSpec spec;
        try {
            spec = CampaignParser.parse(file, workdir);
        } catch (CampaignException e) {
            for (String p : e.problems()) {
                System.err.println(p);
            }
            System.err.println("faultdisk campaign: " + e.problems().size() + " problem(s); nothing ran");
            return ExitCodes.USAGE;
        }
        int slots;
        try {
            slots = parallel.equals("auto") ? CampaignRunner.autoParallel(spec) : Integer.parseInt(parallel);
            if (slots < 1 || slots > CampaignRunner.MAX_SLOTS) {
                throw new NumberFormatException();
            }
        } catch (NumberFormatException e) {
            System.err.println("faultdisk campaign: --parallel must be 1 to " + CampaignRunner.MAX_SLOTS
                    + " or auto, got '" + parallel + "'; nothing ran");
            return ExitCodes.USAGE;
        }
        if (checkOnly) {
            System.out.println(file + ": ok (" + spec.nodes().size() + " nodes, "
                    + spec.faults().size() + " fault kinds)");
            return ExitCodes.OK;
        }
        CampaignRunner runner = new CampaignRunner(spec, System.out);
        Thread hook = new Thread(runner::close, "campaign-cleanup");
        Runtime.getRuntime().addShutdownHook(hook);
        try {
            Path report = runner.run(new CampaignRunner.Options(rerun, maxRuns, fresh, slots));
            System.out.println("report: " + report);
            return ExitCodes.OK;
        } catch (CampaignRunner.CampaignFailure | IllegalArgumentException e) {
            System.err.println("faultdisk campaign: " + e.getMessage());
            return ExitCodes.FAILED;
        } catch (Exception e) {
            System.err.println("faultdisk campaign: " + e);
            return ExitCodes.FAILED;
        } finally {
            runner.close();
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException shuttingDown) {
                // Ctrl-C: the hook is running the cleanup
            }
        }
    }
}
