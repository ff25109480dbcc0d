package dev.tikhon.train;

/** The loss became NaN or infinite; says where, so the run can be diagnosed or resumed from the last checkpoint. */
public final class TrainingDivergedException extends RuntimeException {
    public final int epoch, batch;
    public final double loss;

    public TrainingDivergedException(int epoch, int batch, double loss, String hint) {
        super("training diverged: the loss became " + loss + " at epoch " + (epoch + 1) + ", batch " + (batch + 1)
                + "; " + hint);
        this.epoch = epoch;
        this.batch = batch;
        this.loss = loss;
    }
}
