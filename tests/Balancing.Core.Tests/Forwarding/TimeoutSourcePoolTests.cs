using Balancing.Forwarding;
using Microsoft.Extensions.Time.Testing;

namespace Balancing.Core.Tests.Forwarding;

[TestClass]
public sealed class TimeoutSourcePoolTests
{
    [TestMethod]
    public void Rent_AfterReturn_ReusesTheSystemClockSource()
    {
        var pool = new TimeoutSourcePool(TimeProvider.System);
        var first = pool.Rent(TimeSpan.FromMinutes(10));
        pool.Return(first);

        var second = pool.Rent(TimeSpan.FromMinutes(10));

        Assert.AreSame(first, second);
        Assert.IsFalse(second.IsCancellationRequested);
    }

    [TestMethod]
    public void Rent_AfterReturn_StartsAFreshDeadline()
    {
        // Sources on other clocks may not be resettable (then a new one is made); either way the deadline is new.
        var clock = new FakeTimeProvider();
        var pool = new TimeoutSourcePool(clock);
        var first = pool.Rent(TimeSpan.FromSeconds(10));
        clock.Advance(TimeSpan.FromSeconds(8));
        pool.Return(first);

        var second = pool.Rent(TimeSpan.FromSeconds(10));
        clock.Advance(TimeSpan.FromSeconds(8));

        Assert.IsFalse(second.IsCancellationRequested, "the old deadline (10 s after the first rent) must not carry over");
        clock.Advance(TimeSpan.FromSeconds(3));
        Assert.IsTrue(second.IsCancellationRequested);
    }

    [TestMethod]
    public void Return_ReturnedSource_DoesNotFireWhilePooled()
    {
        var clock = new FakeTimeProvider();
        var pool = new TimeoutSourcePool(clock);
        var source = pool.Rent(TimeSpan.FromSeconds(1));
        pool.Return(source);

        clock.Advance(TimeSpan.FromMinutes(5));

        Assert.IsFalse(source.IsCancellationRequested);
    }

    [TestMethod]
    public void Return_CancelledSource_IsNotReused()
    {
        var clock = new FakeTimeProvider();
        var pool = new TimeoutSourcePool(clock);
        var source = pool.Rent(TimeSpan.FromSeconds(1));
        clock.Advance(TimeSpan.FromSeconds(2));
        pool.Return(source);

        var next = pool.Rent(TimeSpan.FromSeconds(1));

        Assert.AreNotSame(source, next);
        Assert.IsFalse(next.IsCancellationRequested);
    }

    [TestMethod]
    public void Rent_InfiniteDelay_NeverFires()
    {
        var clock = new FakeTimeProvider();
        var pool = new TimeoutSourcePool(clock);
        pool.Return(pool.Rent(TimeSpan.FromSeconds(1)));

        var source = pool.Rent(Timeout.InfiniteTimeSpan);
        clock.Advance(TimeSpan.FromDays(30));

        Assert.IsFalse(source.IsCancellationRequested);
    }
}
