using Balancing.Statistics;

namespace Balancing.Core.Tests.Statistics;

[TestClass]
public sealed class SlidingCounterTests
{
    [TestMethod]
    public void Sum_CurrentSecond_IsNotCountedUntilItCompletes()
    {
        var counter = new SlidingCounter();
        counter.Add(3);

        Assert.AreEqual((3L, 0L), (counter.Current, counter.Sum(10)));
    }

    [TestMethod]
    public void Sum_CompletedSeconds_AddUpOverTheWindow()
    {
        var counter = new SlidingCounter();
        for (var second = 1; second <= 5; second++)
        {
            counter.Add(second);
            counter.Advance();
        }

        // Seconds 1..5 were completed in that order: the last two hold 4 and 5.
        Assert.AreEqual((9L, 15L, 15L), (counter.Sum(2), counter.Sum(5), counter.Sum(60)));
    }

    [TestMethod]
    public void Sum_SecondOlderThanTheWindow_IsForgotten()
    {
        var counter = new SlidingCounter();
        counter.Add(7);
        counter.Advance();
        for (var i = 0; i < 59; i++)
        {
            counter.Advance();
        }

        var atTheEdge = counter.Sum(60);
        counter.Advance();

        Assert.AreEqual((7L, 0L), (atTheEdge, counter.Sum(60)));
    }

    [TestMethod]
    public void Advance_AfterAFullRound_ReusesBucketsFromZero()
    {
        var counter = new SlidingCounter();
        for (var i = 0; i < 200; i++)
        {
            counter.Increment();
            counter.Advance();
        }

        Assert.AreEqual((10L, 60L, 0L), (counter.Sum(10), counter.Sum(60), counter.Current));
    }

    [TestMethod]
    public async Task Increment_FromManyThreads_LosesNothing()
    {
        var counter = new SlidingCounter();

        await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(() =>
        {
            for (var i = 0; i < 10_000; i++)
            {
                counter.Increment();
            }
        })));
        counter.Advance();

        Assert.AreEqual(40_000L, counter.Sum(1));
    }
}
