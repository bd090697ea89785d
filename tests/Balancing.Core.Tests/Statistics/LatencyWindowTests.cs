using Balancing.Statistics;
using HdrHistogram;

namespace Balancing.Core.Tests.Statistics;

[TestClass]
public sealed class LatencyWindowTests
{
    [TestMethod]
    public void CopyTo_BeforeTheSecondEnds_HoldsNothing()
    {
        var window = new LatencyWindow();
        var merged = LatencyWindow.CreateHistogram();
        window.Record(0.01);

        window.CopyTo(merged);

        Assert.AreEqual(0L, merged.TotalCount);
    }

    [TestMethod]
    public void CopyTo_AfterSixSlices_DropsTheOldestSlice()
    {
        var window = new LatencyWindow();
        var merged = LatencyWindow.CreateHistogram();
        window.Record(0.5);
        for (var second = 0; second < LatencyWindow.SliceCount * LatencyWindow.SliceSeconds - 1; second++)
        {
            window.Advance();
        }

        window.CopyTo(merged);
        var before = merged.TotalCount;
        window.Advance();
        window.CopyTo(merged);

        Assert.AreEqual((1L, 0L), (before, merged.TotalCount));
    }

    [TestMethod]
    public async Task Record_FromManyThreadsWhileTheClockMoves_LosesNothing()
    {
        var window = new LatencyWindow();
        var merged = LatencyWindow.CreateHistogram();

        var writers = Enumerable.Range(0, 4).Select(t => Task.Run(() =>
        {
            for (var i = 0; i < 20_000; i++)
            {
                window.Record((t + 1) / 1000.0);
            }
        })).ToArray();

        // Fewer ticks than the window holds, so every sample must still be in it at the end.
        var ticks = 0;
        while (!writers.All(w => w.IsCompleted) && ticks < 40)
        {
            window.Advance();
            ticks++;
            await Task.Yield();
        }

        await Task.WhenAll(writers);
        window.Advance();
        window.CopyTo(merged);

        Assert.AreEqual(80_000L, merged.TotalCount);
        Assert.AreEqual(4000L, merged.GetMaxValue(), 4000 / 128, "2 significant digits: within 1/128 of the largest sample");
    }
}
