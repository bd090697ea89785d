using Balancing.Health;

namespace Balancing.Core.Tests.Health;

[TestClass]
public sealed class HealthStatusCodesTests
{
    [TestMethod]
    [DataRow("200-299", 200, true)]
    [DataRow("200-299", 299, true)]
    [DataRow("200-299", 300, false)]
    [DataRow("200-299", 199, false)]
    [DataRow("200-299,404", 404, true)]
    [DataRow("200-299,404", 403, false)]
    [DataRow(" 200 , 301 - 302 ", 301, true)]
    [DataRow("100-599", 503, true)]
    [DataRow("200", 200, true)]
    [DataRow("200", 600, false)]
    [DataRow("200", 0, false)]
    public void TryParse_ValidList_AcceptsExactlyTheListedCodes(string text, int status, bool expected)
    {
        Assert.IsTrue(HealthStatusCodes.TryParse(text, out var codes));

        Assert.AreEqual(expected, codes.Contains(status));
    }

    [TestMethod]
    [DataRow(null)]
    [DataRow("")]
    [DataRow("  ")]
    [DataRow("2xx")]
    [DataRow("200-")]
    [DataRow("-200")]
    [DataRow("300-200")]
    [DataRow("99")]
    [DataRow("600")]
    [DataRow("200,,204")]
    [DataRow("200;204")]
    [DataRow("+200")]
    [DataRow("200-299-300")]
    public void TryParse_Garbage_ReturnsFalse(string? text)
    {
        Assert.IsFalse(HealthStatusCodes.TryParse(text, out _));
    }

    [TestMethod]
    public void ToString_ReturnsTheTrimmedText()
    {
        Assert.AreEqual("200-299,404", HealthStatusCodes.Parse(" 200-299,404 ").ToString());
    }
}
