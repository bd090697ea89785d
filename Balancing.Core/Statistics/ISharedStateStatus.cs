namespace Balancing.Statistics;

/// <summary>A store shared across instances that reports its state in <see cref="LoadBalancerStatistics.SharedState"/>.</summary>
internal interface ISharedStateStatus
{
    SharedStateStatistics GetStatistics();
}
